"""`passnum staff revoke` and `passnum staff new-token`: end a staff token, or hand out a new
one (to a member whose token expired, or to rotate it). Both audited as the "cli" admin; the
rules are the staff API's handlers (`bot.staff.members`)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.staff_common import console, handle
from bot.staff.members import GiveNewToken, RevokeStaffMember

__all__ = ["tokens_app"]

tokens_app = typer.Typer()

Who = Annotated[str, typer.Argument(metavar="TOKEN-OR-NAME", help="their token, or their name")]


@tokens_app.command("revoke")
def revoke(token_or_name: Who) -> None:
    """Revoke a staff member's token: it is refused from now on, their Telegram chat unlinked."""
    member = handle(RevokeStaffMember(member=token_or_name))
    console.print(f"Staff member {member.id} ({member.name}): token revoked.", markup=False)


@tokens_app.command("new-token")
def renew(token_or_name: Who) -> None:
    """Give a staff member a new token (the old one stops working) and print it, once."""
    renewed = handle(GiveNewToken(member=token_or_name))
    console.print(
        f"Staff member {renewed.id} ({renewed.name}). New API token, shown only once:",
        markup=False,
    )
    console.print(renewed.token, markup=False, highlight=False)
