"""The `passnum` command line (SPEC section 5)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.cli.staff import staff_app
from bot.cli.support import errors, settings_or_exit

if TYPE_CHECKING:  # imported when a command runs: `passnum --help` stays quick
    from storage.imports import ImportReport
    from storage.imports import Progress as RowProgress

__all__ = ["app", "main"]

app = typer.Typer(
    help="passnum: the Pass numérique assistant (vouchers, nearest sessions, reminders "
    "by SMS and Telegram).",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(staff_app, name="staff")
console = Console()


class ImportKind(StrEnum):
    places = "places"
    slots = "slots"
    beneficiaries = "beneficiaries"


class Channel(StrEnum):
    sms = "sms"
    telegram = "telegram"
    voice = "voice"


_settings = settings_or_exit


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors.print(f"[red]--now:[/red] '{value}' is not an ISO 8601 time like 2026-12-01T09:00")
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=_settings().tz)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the latest version."""
    from bot.runtime import open_database

    settings = _settings()
    open_database(settings).dispose()
    console.print(f"Database is up to date: {_safe_url(settings.database_url)}")


@app.command()
def demo() -> None:
    """Create/update the database and load the demo data set (idempotent)."""
    from bot.runtime import open_database
    from storage.db import unit_of_work
    from storage.demo import DEMO_BOOKLET, DEMO_CODE, DEMO_PHONE, load_demo
    from storage.demo_staff import demo_admin_token

    settings = _settings()
    engine = open_database(settings)
    with unit_of_work(engine) as session:
        summary = load_demo(session, now=datetime.now(UTC))
        token = demo_admin_token(session, now=datetime.now(UTC))
        session.commit()
    console.print(
        f"[bold]Demo data ready[/bold] in {_safe_url(settings.database_url)}", soft_wrap=True
    )
    console.print(
        f"  {summary.places} places, {summary.slots} sessions over the next four weeks, "
        f"{summary.beneficiaries} people holding {summary.vouchers} vouchers "
        f"({summary.created} records created by this run)",
        soft_wrap=True,
    )
    console.print(
        f"[bold]Staff console:[/bold] {settings.public_url.rstrip('/')}/ "
        "(once [bold]make run[/bold] or [bold].venv/bin/passnum serve[/bold] is running)",
        soft_wrap=True,
    )
    console.print(
        f"  sign in with the demo coordinator's token: [bold]{token}[/bold]", soft_wrap=True
    )
    console.print(
        f"[bold]Assistant in the terminal:[/bold] .venv/bin/passnum chat --phone {DEMO_PHONE} "
        f"(booklet {DEMO_BOOKLET}, code {DEMO_CODE})",
        soft_wrap=True,
    )


@app.command("import")
def import_file(
    kind: Annotated[ImportKind, typer.Argument(help="what the file holds")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import places, slots or beneficiaries from a CSV file (comma or semicolon)."""
    _settings()  # a wrong setting stops here, before the progress bar
    with _progress() as progress:
        task = progress.add_task(f"Importing {kind.value}", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        if kind is ImportKind.places:
            report = _import_places(file, on_progress)
        else:
            report = _import_rows(kind, file, on_progress)
    for error in report.errors:
        errors.print(f"[yellow]line {error.line}:[/yellow] {error.reason}")
    console.print(report.summary())
    if report.errors:
        raise typer.Exit(1)


def _import_places(file: Path, on_progress: RowProgress) -> ImportReport:
    """Places go through the staff command, as the console's upload (audited, as "cli")."""
    from bot.cli.staff_common import handle
    from bot.staff.places import ImportPlaces

    # newline="" keeps a line break inside a quoted cell for the CSV reader, as a file path does.
    with file.open(encoding="utf-8-sig", newline="") as text:
        lines = tuple(text.read().splitlines(keepends=True))
    return handle(ImportPlaces(lines=lines, on_progress=on_progress))


def _import_rows(kind: ImportKind, file: Path, on_progress: RowProgress) -> ImportReport:
    """Slots and beneficiaries: the storage import in one unit of work."""
    from collections.abc import Callable
    from functools import partial

    from bot.outbox.notices import notice_composer
    from bot.runtime import open_database
    from storage import imports
    from storage.db import unit_of_work

    settings = _settings()
    importers: dict[ImportKind, Callable[..., imports.ImportReport]] = {
        ImportKind.slots: imports.import_slots,
        ImportKind.beneficiaries: partial(
            imports.import_beneficiaries,
            sms_regions=settings.sms_regions,
            notices=notice_composer(settings),
        ),
    }
    engine = open_database(settings)
    try:
        with unit_of_work(engine) as session:
            report = importers[kind](session, file, on_progress=on_progress)
            session.commit()
    finally:
        engine.dispose()
    return report


@app.command()
def chat(
    phone: Annotated[str, typer.Option(help="the phone number you text from")] = "+33612345678",
    channel: Annotated[Channel, typer.Option(help="sms, telegram or voice (a call)")] = Channel.sms,
    chat_id: Annotated[int, typer.Option(help="Telegram chat id, with --channel telegram")] = 1000,
) -> None:
    """Talk to the assistant in the terminal as a beneficiary (one message per line)."""
    from bot.channels.terminal import run_chat

    run_chat(
        _settings(),
        phone=phone,
        channel=channel.value,
        chat_id=chat_id,
        interactive=sys.stdin.isatty(),
        console=console,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int, typer.Option(help="server processes (PostgreSQL only; see docs/operations.md)")
    ] = 1,
) -> None:
    """Run the HTTP app (webhooks, staff API) with the scheduler and Telegram."""
    from bot.server import WorkersRefused, run_server

    try:
        run_server(_settings(), host=host, port=port, workers=workers)
    except WorkersRefused as refused:
        errors.print(f"[red]Cannot start:[/red] {refused}", soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def tick(
    now: Annotated[str | None, typer.Option(help="act as if at this ISO 8601 time")] = None,
) -> None:
    """One scheduler pass (plan reminders, dispatch the outbox, expire vouchers), then exit."""
    from bot.outbox.scheduler import run_tick

    summary = run_tick(_settings(), now=_parse_now(now))
    console.print(summary)


@app.command()
def broadcast(
    segment: Annotated[
        str, typer.Option(help="all, unused, slot:ID, place:ID, commune:X, topic:K")
    ],
    message: Annotated[str, typer.Option(help="the text to send")],
    at: Annotated[str | None, typer.Option(help="send at this ISO 8601 time")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only show the preview")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Send a message to a segment of beneficiaries, after a preview."""
    from bot.cli.broadcast import run_broadcast

    run_broadcast(
        segment=segment,
        message=message,
        at=_parse_now(at) if at else None,
        dry_run=dry_run,
        yes=yes,
        console=console,
    )


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="smaller sizes, for CI")] = False,
    json_file: Annotated[Path | None, typer.Option("--json", help="write results here")] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="only benchmarks named so (a prefix)")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL URL: the webhook and nearest-slot rows run there too "
            "(a throw-away schema)"
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(help="an earlier passnum source tree: its webhook path in the same rounds"),
    ] = None,
) -> None:
    """Run the benchmark suite; print every figure and the aims (met or not), write JSON."""
    from bot.bench.suite import run_bench

    run_bench(
        quick=quick,
        json_path=json_file or Path("bench-results.json"),
        console=console,
        only=only,
        database_url=database_url,
        baseline=baseline,
    )


def _register_sub_commands() -> None:
    from bot.cli.privacy import privacy_app

    app.add_typer(privacy_app, name="privacy")


_register_sub_commands()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    from bot.log_redaction import install_log_redaction

    install_log_redaction()  # whatever a command logs (a failed tick, a migration) is clean
    app()


if __name__ == "__main__":
    main()
