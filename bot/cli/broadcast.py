"""`passnum broadcast`: preview a broadcast, ask for confirmation, then queue it.

The shell user holds the database, so they act as an admin ("cli" in the audit log). Above the
approval threshold the broadcast waits for a named staff member's approval
(`passnum staff approve ID --as STAFF_ID`, or the staff API). The rules are the handlers'
(`bot.staff.broadcasts`), shared with the staff API, the console and Telegram.

The preview is read in a read-only unit of work that ends before the prompt; the broadcast is
drafted and confirmed in its own short one after the answer. No transaction waits for a person:
on SQLite it would hold the write lock and every webhook of the server would fail with
"database is locked".
"""

from __future__ import annotations

from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.staff_common import handle
from bot.staff.broadcasts import Preview, PreviewBroadcast, SendBroadcast

__all__ = ["preview_table", "run_broadcast"]


def preview_table(seen: Preview) -> Table:
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
            ("Approval", f"needed: {seen.reach_24h} people with the last 24 h, over the threshold")
        )
    for name, value in rows:
        table.add_row(name, value)
    return table


def run_broadcast(
    *,
    segment: str,
    message: str,
    at: datetime | None,
    dry_run: bool,
    yes: bool,
    console: Console,
) -> None:
    """Preview; stop there with --dry-run; else confirm (or --yes) and queue."""
    seen = handle(PreviewBroadcast(segment=segment, message=message, send_at=at))
    console.print(preview_table(seen))
    console.print("The SMS, as it will be sent:")
    console.print(seen.sms_text, markup=False, highlight=False, soft_wrap=True)
    if dry_run:
        console.print("Dry run: nothing was sent.")
        return
    if not yes and not typer.confirm(f"Send to {seen.recipients} people?"):
        console.print("Cancelled: nothing was sent.")
        raise typer.Exit(1)
    # the recipients are chosen again now, as confirmed
    sent = handle(SendBroadcast(segment=segment, message=message, send_at=at))
    if sent.status == "pending_approval":
        console.print(
            f"Broadcast {sent.id} waits for approval by a second staff member: "
            f"passnum staff approve {sent.id} --as STAFF_ID"
        )
        return
    when = f" from {at.isoformat()}" if at else ""
    console.print(
        f"Broadcast {sent.id}: {sent.recipients} messages queued{when} "
        "(sent at the allowed pace, outside quiet hours)."
    )
