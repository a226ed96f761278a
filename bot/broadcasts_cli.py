"""`passnum broadcast`: preview a broadcast, ask for confirmation, then queue it.

The shell user holds the database, so they act as an admin ("cli" in the audit log). Above the
approval threshold the broadcast waits for a named staff member's approval
(`passnum staff approve ID --as STAFF_ID`, or the staff API).

The preview is read in a read-only unit of work that ends before the prompt; the broadcast is
created in its own short one after the answer. No transaction waits for a person: on SQLite it
would hold the write lock and every webhook of the server would fail with "database is locked".
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from config import Settings
from storage.broadcasts import Preview, confirm_broadcast, create_broadcast, preview
from storage.db import read_only, unit_of_work
from storage.staff import CLI_ADMIN, StaffRefused

__all__ = ["preview_table", "run_broadcast"]


def preview_table(seen: Preview, *, threshold: int) -> Table:
    """The preview as a two-column table."""
    table = Table(title=f"Broadcast to {seen.segment}", show_header=False)
    rows = [
        ("Recipients", str(seen.recipients)),
        ("By SMS", str(seen.by_channel.get("sms", 0))),
        ("By Telegram", str(seen.by_channel.get("telegram", 0))),
        ("SMS segments per message", str(seen.sms_segments)),
        ("Estimated cost", f"{seen.estimated_cost_eur:.2f} €"),
    ]
    if seen.language:
        rows.insert(0, ("Language", seen.language))
    if seen.needs_approval:
        rows.append(
            ("Approval", f"needed: {seen.reach_24h} people with the last 24 h, over {threshold}")
        )
    for name, value in rows:
        table.add_row(name, value)
    return table


def run_broadcast(
    settings: Settings,
    *,
    segment: str,
    message: str,
    at: datetime | None,
    dry_run: bool,
    yes: bool,
    console: Console,
) -> None:
    """Preview; stop there with --dry-run; else confirm (or --yes) and queue."""
    from bot.runtime import open_database

    engine = open_database(settings)
    price, threshold = settings.sms_price_eur, settings.broadcast_approval_threshold
    try:
        with read_only(engine) as session:
            seen = preview(
                session,
                staff=CLI_ADMIN,
                segment=segment,
                message=message,
                language=None,
                now=datetime.now(UTC),
                price_eur=price,
                threshold=threshold,
            )
        console.print(preview_table(seen, threshold=threshold))
        console.print("The SMS, as it will be sent:")
        console.print(seen.sms_text, markup=False, highlight=False, soft_wrap=True)
        if dry_run:
            console.print("Dry run: nothing was sent.")
            return
        if not yes and not typer.confirm(f"Send to {seen.recipients} people?"):
            console.print("Cancelled: nothing was sent.")
            raise typer.Exit(1)
        now = datetime.now(UTC)  # the recipients are chosen again now, as confirmed
        with unit_of_work(engine) as session:
            draft, _ = create_broadcast(
                session,
                staff=CLI_ADMIN,
                segment=segment,
                message=message,
                language=None,
                send_at=at,
                now=now,
                price_eur=price,
                threshold=threshold,
            )
            draft = confirm_broadcast(
                session, staff=CLI_ADMIN, broadcast_id=draft.id or 0, now=now, threshold=threshold
            )
            session.commit()
    except StaffRefused as refused:
        console.print(f"[red]Refused:[/red] {refused.message}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    _say_status(console, draft.id or 0, draft.status, draft.recipients, at)


def _say_status(
    console: Console, broadcast_id: int, status: str, count: int, at: datetime | None
) -> None:
    if status == "pending_approval":
        console.print(
            f"Broadcast {broadcast_id} waits for approval by a second staff member: "
            f"passnum staff approve {broadcast_id} --as STAFF_ID"
        )
        return
    when = f" from {at.isoformat()}" if at else ""
    console.print(
        f"Broadcast {broadcast_id}: {count} messages queued{when} "
        "(sent at the allowed pace, outside quiet hours)."
    )
