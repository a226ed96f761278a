"""`passnum staff …`: staff tools from the shell (the shell user acts as the "cli" admin,
except `approve`, which names the approving staff member with --as)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.cli.staff_common import bot_username, console, fail, handle, run
from bot.cli.staff_people import people_app
from bot.cli.staff_slots import slots_app
from bot.cli.staff_tokens import tokens_app
from bot.cli.support import errors, settings_or_exit
from bot.staff.bookings import MarkAttendance
from bot.staff.broadcasts import ApproveBroadcast, BroadcastReport, CancelBroadcast
from bot.staff.members import ROLES, AddStaffMember, IssueStaffTelegramLink
from bot.staff.people import UnlockBooklet
from bot.staff.slots import CancelSlot
from bot.staff.stats import Statistics
from storage.staff import get_staff
from storage.stats import stats_csv

__all__ = ["staff_app"]

staff_app = typer.Typer(
    help="Staff tools: members, beneficiaries, help requests, broadcasts, slots, statistics.",
    no_args_is_help=True,
)
staff_app.add_typer(people_app)  # no name: their commands sit beside these ones
staff_app.add_typer(slots_app)
staff_app.add_typer(tokens_app)


@staff_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the staff member's name")],
    role: Annotated[str, typer.Option(help="advisor or admin")] = "advisor",
    place: Annotated[list[int] | None, typer.Option(help="place id (repeat)")] = None,
) -> None:
    """Create a staff member and print their API token (shown once)."""
    if role not in ROLES:
        errors.print("[red]--role[/red] must be advisor or admin")
        raise typer.Exit(2)
    member = handle(AddStaffMember(name=name, role=role, place_ids=tuple(place or ())))
    console.print(f"Staff member {member.id} ({name}, {role}). API token, shown only once:")
    console.print(member.token, markup=False, highlight=False)


@staff_app.command("telegram-link")
def telegram_link(staff_id: Annotated[int, typer.Argument(help="staff id")]) -> None:
    """Print a one-time Telegram link that makes the chat opening it this staff member's."""
    bot = bot_username(settings_or_exit())
    link = handle(IssueStaffTelegramLink(staff_id=staff_id, bot_username=bot))
    console.print(link, markup=False)


@staff_app.command("unlock-booklet")
def unlock_booklet_command(
    number: Annotated[str, typer.Argument(help="booklet number, e.g. PN-0001")],
) -> None:
    """Let a booklet locked after 10 wrong codes accept its code again (audited)."""
    booklet = handle(UnlockBooklet(number=number))
    console.print(f"Booklet {booklet.number} unlocked: its code works again.", markup=False)


@staff_app.command("approve")
def approve(
    broadcast_id: int, as_staff: Annotated[int, typer.Option("--as", help="the approving staff id")]
) -> None:
    """Approve a broadcast above the threshold (someone else than its author)."""
    approver = run(lambda s, _: get_staff(s, staff_id=as_staff))
    if approver is None:
        raise fail(f"no staff member {as_staff}")
    approved = handle(ApproveBroadcast(broadcast_id=broadcast_id), staff=approver)
    console.print(f"Broadcast {broadcast_id} approved: {approved.recipients} messages queued.")


@staff_app.command("cancel-broadcast")
def cancel_a_broadcast(broadcast_id: int) -> None:
    """Cancel a broadcast; its messages not yet sent are cancelled."""
    stopped = handle(CancelBroadcast(broadcast_id=broadcast_id)).messages_stopped
    console.print(f"Broadcast {broadcast_id} cancelled ({stopped} messages not sent).")


@staff_app.command("report")
def report(broadcast_id: int) -> None:
    """Delivery report of a broadcast: its messages by status."""
    found = handle(BroadcastReport(broadcast_id=broadcast_id))
    table = Table(title=f"Broadcast {found.id} to {found.segment}: {found.status}")
    table.add_column("status")
    table.add_column("messages", justify="right")
    for status, count in sorted(found.counts.items()):
        table.add_row(status, str(count))
    console.print(table)


@staff_app.command("cancel-slot")
def cancel_a_slot(slot_id: int) -> None:
    """Cancel a slot: vouchers go back, booked people are told."""
    told = handle(CancelSlot(slot_id=slot_id)).told
    people = "1 person" if told == 1 else f"{told} people"
    console.print(f"Slot {slot_id} cancelled; {people} will be told, vouchers given back.")


@staff_app.command("attendance")
def attendance(
    booking_id: int, attended: Annotated[bool, typer.Option("--attended/--no-show")] = True
) -> None:
    """Mark a booking attended (voucher redeemed) or no-show (per the policy)."""
    booking = handle(MarkAttendance(booking_id=booking_id, attended=attended))
    console.print(f"Booking {booking_id}: {booking.status}.")


@staff_app.command("stats")
def stats(
    csv_file: Annotated[Path | None, typer.Option("--csv", help="write CSV here")] = None,
) -> None:
    """Vouchers, bookings, no-shows, messages and their cost, by month and place."""
    found = handle(Statistics())
    if csv_file is not None:
        csv_file.write_text(stats_csv(found), encoding="utf-8")
        console.print(f"Statistics written to {csv_file}")
        return
    console.print(_totals_table(found.totals))
    console.print(_rows_table("Bookings by month and place", found.bookings))
    console.print(_rows_table("Messages by month", found.messages))


def _totals_table(totals: dict[str, float]) -> Table:
    table = Table(title="Totals", show_header=False)
    for name, value in totals.items():
        table.add_row(name.replace("_", " "), f"{value:g}")
    return table


def _rows_table(title: str, rows: list[dict[str, object]]) -> Table:
    table = Table(title=title)
    for column in rows[0] if rows else ["(none)"]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    return table
