"""`passnum staff revoke` and `passnum staff new-token`: end a staff token, or hand out a new
one (to a member whose token expired, or to rotate it). Both audited as the "cli" admin."""

from __future__ import annotations

import hmac
from typing import Annotated

import typer
from sqlmodel import Session

from bot.cli_staff_common import console, now, run
from config import Settings
from storage.staff import CLI_ADMIN, StaffRefused
from storage.staff_tokens import find_member, new_token, revoke_member

__all__ = ["tokens_app"]

tokens_app = typer.Typer()

Who = Annotated[str, typer.Argument(metavar="TOKEN-OR-NAME", help="their token, or their name")]


def _not_bootstrap(settings: Settings, token_or_name: str) -> None:
    bootstrap = settings.staff_token
    if bootstrap and hmac.compare_digest(token_or_name.encode(), bootstrap.encode()):
        raise StaffRefused(
            "invalid",
            "this is the bootstrap token: change PASSNUM_STAFF_TOKEN and restart the server",
        )


@tokens_app.command("revoke")
def revoke(token_or_name: Who) -> None:
    """Revoke a staff member's token: it is refused from now on, their Telegram chat unlinked."""

    def work(session: Session, settings: Settings) -> str:
        _not_bootstrap(settings, token_or_name)
        member = find_member(session, token_or_name=token_or_name)
        revoke_member(session, member=member, by=CLI_ADMIN, now=now())
        return f"Staff member {member.id} ({member.name}): token revoked."

    console.print(run(work), markup=False)


@tokens_app.command("new-token")
def renew(token_or_name: Who) -> None:
    """Give a staff member a new token (the old one stops working) and print it, once."""

    def work(session: Session, settings: Settings) -> tuple[int | None, str, str]:
        _not_bootstrap(settings, token_or_name)
        member = find_member(session, token_or_name=token_or_name)
        return member.id, member.name, new_token(session, member=member, by=CLI_ADMIN, now=now())

    staff_id, name, token = run(work)
    console.print(
        f"Staff member {staff_id} ({name}). New API token, shown only once:", markup=False
    )
    console.print(token, markup=False, highlight=False)
