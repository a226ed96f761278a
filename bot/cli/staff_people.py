"""`passnum staff …` for beneficiaries: the help inbox, registering one, their phone, their
file and a Telegram deep link (the staff API's handlers, `bot.staff.people`)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from sqlmodel import Session

from bot.cli.staff_common import (
    RecordId,
    bot_username,
    console,
    handle,
    local_text,
    now,
    parse_day,
    plain,
    run,
)
from bot.cli.support import settings_or_exit
from bot.staff.people import (
    ChangePhone,
    IssueTelegramLink,
    PersonFile,
    PersonRecord,
    RegisterBeneficiary,
)
from config import Settings
from storage.beneficiaries_admin import answer_help_request
from storage.staff import CLI_ADMIN, open_help_requests

__all__ = ["people_app"]

people_app = typer.Typer()


@people_app.command("help-requests")
def help_requests() -> None:
    """List the help messages left by beneficiaries and not yet answered."""

    def work(session: Session, settings: Settings) -> Table:
        table = Table(title="Open help requests")
        for column in ("id", "date", "beneficiary", "channel", "text"):
            table.add_column(column)
        for row in open_help_requests(session, staff=CLI_ADMIN):
            when = local_text(row.created_at, settings.tz)
            who = row.beneficiary_id or "unknown"
            table.add_row(str(row.id), when, str(who), row.channel, plain(row.text))
        return table

    table = run(work)
    console.print(table if table.row_count else "No open help requests.")


@people_app.command("answer")
def answer(
    request_id: RecordId, text: Annotated[str, typer.Argument(help="the answer to send")]
) -> None:
    """Answer a help message: it goes to the person on their channel, through the outbox."""
    run(
        lambda s, _: answer_help_request(
            s, staff=CLI_ADMIN, request_id=request_id, text=text, now=now()
        )
    )
    console.print(f"Help request {request_id} answered; the answer is queued in the outbox.")


@people_app.command("register")
def register(
    booklet: Annotated[str, typer.Option(help="the booklet number")],
    first_name: Annotated[str, typer.Option(help="the person's first name")],
    phone: Annotated[str, typer.Option(help="any French or E.164 form")],
    vouchers: Annotated[int, typer.Option(help="how many vouchers the booklet holds")],
    expires_on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    code: Annotated[str, typer.Option(help="the verification code printed in the booklet")],
    language: Annotated[str, typer.Option(help="fr or en")] = "fr",
    commune: Annotated[str | None, typer.Option(help="name, postcode or INSEE code")] = None,
) -> None:
    """Register a beneficiary with a new booklet and its vouchers."""
    day = parse_day(expires_on, "--expires-on")
    command = RegisterBeneficiary(
        first_name=first_name,
        phone=phone,
        booklet_number=booklet,
        vouchers=vouchers,
        expires_on=day,
        verification_code=code,
        language=language,
        commune=commune,
    )
    person = handle(command)
    console.print(
        f"Beneficiary {person.id} registered: booklet {booklet}, "
        f"{vouchers} vouchers valid until {day.isoformat()}.",
        highlight=False,
    )


@people_app.command("phone")
def phone(
    beneficiary_id: RecordId,
    new_phone: Annotated[str, typer.Argument(help="any French or E.164 form")],
) -> None:
    """Change a beneficiary's phone number (kept in E.164 form)."""
    person = handle(ChangePhone(beneficiary_id=beneficiary_id, phone=new_phone))
    console.print(f"Beneficiary {beneficiary_id}: phone is now {person.phone}.", highlight=False)


@people_app.command("beneficiary")
def beneficiary(beneficiary_id: RecordId) -> None:
    """A beneficiary's record, booklets, bookings and latest messages."""
    found = handle(PersonFile(beneficiary_id=beneficiary_id))
    tz = settings_or_exit().tz
    console.print(_record_table(found))
    console.print(_rows_table("Bookings", found.bookings, tz))
    console.print(_rows_table("Latest messages", found.messages, tz))


@people_app.command("deep-link")
def deep_link(beneficiary_id: RecordId) -> None:
    """Print a Telegram link that links the chat opening it to this beneficiary."""
    bot = bot_username(settings_or_exit())
    link = handle(IssueTelegramLink(beneficiary_id=beneficiary_id, bot_username=bot))
    console.print(link, markup=False, highlight=False)


def _record_table(found: PersonRecord) -> Table:
    person = found.person
    table = Table(title=f"Beneficiary {person.id}", show_header=False)
    for name, value in (
        ("first name", person.first_name),
        ("phone", person.phone),
        ("telegram linked", _yes_no(person.telegram_chat_id is not None)),
        ("language", person.language),
        ("commune (INSEE)", person.commune_insee),
        ("booklets", ", ".join(found.booklets)),
        ("reminders", _yes_no(person.reminders_enabled)),
        ("opted out", _yes_no(person.opted_out)),
    ):
        table.add_row(name, plain(value))
    return table


def _rows_table(title: str, rows: list[dict[str, Any]], tz: tzinfo) -> Table | str:
    if not rows:
        return f"{title}: none."
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(value, tz) for value in row.values()))
    return table


def _cell(value: Any, tz: tzinfo) -> Text | str:
    if isinstance(value, datetime):
        return local_text(value, tz)
    return plain(value)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
