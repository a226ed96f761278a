"""What the `passnum staff …` commands share: one unit of work as the "cli" admin, refusals
printed in one line, times read and shown in the configured zone."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, tzinfo
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.text import Text
from sqlmodel import Session

from bot.cli.support import errors, settings_or_exit
from bot.staff import Command
from config import Settings
from storage.db import unit_of_work
from storage.staff import CLI_ADMIN, StaffIdentity, StaffRefused
from storage.types import MAX_YEAR, MIN_YEAR, in_service_years

__all__ = [
    "MAX_ID",
    "RecordId",
    "bot_username",
    "console",
    "fail",
    "handle",
    "local_text",
    "now",
    "parse_day",
    "parse_time",
    "plain",
    "run",
]

T = TypeVar("T")
console = Console()

MAX_ID = 2**31 - 1  # the largest id the databases' INTEGER columns hold (as in the staff API)
RecordId = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="record id")]


def now() -> datetime:
    return datetime.now(UTC)


def fail(message: str) -> typer.Exit:
    """Print a one-line error; the caller raises the returned exit (code 2)."""
    errors.print(f"[red]Error:[/red] {message}")
    return typer.Exit(2)


@contextmanager
def _session() -> Iterator[tuple[Session, Settings]]:
    """A unit of work on the configured database; a refusal prints its reason (exit 2)."""
    from bot.runtime import open_database

    settings = settings_or_exit()
    engine = open_database(settings)
    try:
        with unit_of_work(engine) as session:
            yield session, settings
    except StaffRefused as refused:
        errors.print(f"[red]Refused:[/red] {refused.message}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def handle(command: Command[T], *, staff: StaffIdentity = CLI_ADMIN) -> T:
    """Run one staff command (`bot.staff`) on the configured database as the server's admin;
    a refusal, audited by the service, is printed in one line (exit 2)."""
    from bot.bootstrap import build_staff_service
    from bot.runtime import open_database

    settings = settings_or_exit()
    engine = open_database(settings)
    try:
        service = build_staff_service(engine, settings)
        origin = "cli " + " ".join(sys.argv[1:3])
        return service.handle(staff, command, origin=origin)
    except StaffRefused as refused:
        errors.print(f"[red]Refused:[/red] {refused.message}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def run(work: Callable[[Session, Settings], T]) -> T:
    """Do `work` in one transaction, committed when it returns."""
    with _session() as (session, settings):
        result = work(session, settings)
        session.commit()
        return result


def parse_time(value: str | None, option: str, tz: tzinfo) -> datetime | None:
    """An ISO 8601 time; without an offset it is local (the configured zone), like the API."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: '{value}' is not a time like 2026-12-03T14:00") from None
    if not in_service_years(moment):
        raise fail(f"{option}: '{value}' is not between {MIN_YEAR} and {MAX_YEAR}")
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: '{value}' is not a date like 2027-06-30") from None


def local_text(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def plain(value: object) -> Text:
    """A table cell shown as typed: people's texts may hold [brackets] Rich would eat."""
    return Text("" if value is None else str(value))


def bot_username(settings: Settings) -> str:
    """The bot's @username from getMe when a token is set; else the usual name."""
    if not settings.telegram_token:
        return "passnum_bot"
    import httpx

    api = settings.telegram_api_base.rstrip("/")
    try:
        answer = httpx.get(f"{api}/bot{settings.telegram_token}/getMe", timeout=5).json()
        return str(answer["result"]["username"])
    except (httpx.HTTPError, KeyError, TypeError, ValueError):
        return "passnum_bot"
