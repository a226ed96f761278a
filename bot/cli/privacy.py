"""`passnum privacy export|erase`: GDPR requests handled from the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.cli.support import settings_or_exit

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="GDPR: export or erase what is held about a beneficiary.", no_args_is_help=True
)
console = Console()


def _beneficiary_id(who: str) -> int:
    """A beneficiary id, or a phone number in any French or E.164 form: today's holder of the
    number, else the one person who held it before (a phone changed since)."""
    from bot.runtime import open_database
    from storage.address_history import holders_of
    from storage.db import read_only
    from storage.identity import beneficiary_for_address
    from storage.phones import InvalidPhone, normalize_phone

    if who.isdigit() and len(who) < 9:
        return int(who)
    try:
        phone = normalize_phone(who)
    except InvalidPhone as problem:
        raise typer.BadParameter(f"'{who}': {problem}") from None
    engine = open_database(settings_or_exit())
    try:
        with read_only(engine) as session:
            found = beneficiary_for_address(session, channel="sms", address=phone)
            former = holders_of(session, address=phone)
    finally:
        engine.dispose()
    if found is not None and found.id is not None:
        return found.id
    if len(former) == 1:
        return former[0]
    if former:
        raise typer.BadParameter(f"{who} was held by beneficiaries {former}: give an id")
    raise typer.BadParameter(f"nobody has the phone number {who}")


@privacy_app.command("export")
def export_command(
    who: Annotated[str, typer.Argument(help="beneficiary id or phone number")],
    out: Annotated[Path | None, typer.Option(help="write the JSON here")] = None,
) -> None:
    """Print (or write) everything held about a beneficiary, as JSON."""
    from bot.cli.staff_common import handle
    from bot.staff.privacy import ExportPerson

    data = handle(ExportPerson(beneficiary_id=_beneficiary_id(who)))
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out:
        out.write_text(text)
        console.print(f"Written to {out}")
    else:
        print(text)


@privacy_app.command("erase")
def erase_command(
    who: Annotated[str, typer.Argument(help="beneficiary id or phone number")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Erase a beneficiary's personal data (bookings and vouchers stay, anonymous)."""
    from bot.cli.staff_common import handle
    from bot.staff.privacy import ErasePerson

    beneficiary_id = _beneficiary_id(who)
    if not yes and not typer.confirm(f"Erase beneficiary {beneficiary_id}? This cannot be undone"):
        raise typer.Exit(1)
    handle(ErasePerson(beneficiary_id=beneficiary_id))
    console.print(f"Beneficiary {beneficiary_id} erased.")
