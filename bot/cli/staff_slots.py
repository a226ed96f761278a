"""`passnum staff …` for slots: list, add, move and book someone on one (the same commands
as the staff API's routes, `bot.staff.slots` and `bot.staff.bookings`). Times without an
offset are in the configured zone."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bot.cli.staff_common import MAX_ID, RecordId, console, fail, handle, local_text, parse_time
from bot.cli.support import settings_or_exit
from bot.staff.bookings import BookOnBehalf
from bot.staff.slots import ChangeSlot, CreateSlot, ListSlots, SlotView
from config import Settings
from storage.access import BookletProof

__all__ = ["slots_app"]

slots_app = typer.Typer()

PlaceOption = Annotated[int, typer.Option("--place", min=1, max=MAX_ID, help="place id")]


@slots_app.command("slots")
def slots(
    place: Annotated[
        int | None, typer.Option("--place", min=1, max=MAX_ID, help="only this place")
    ] = None,
) -> None:
    """Upcoming slots (of every place, or of one)."""
    tz = settings_or_exit().tz
    table = Table(title="Upcoming slots")
    for column in ("id", "place", "topic", "starts", "ends", "booked", "capacity", "status"):
        table.add_column(column)
    for slot in handle(ListSlots(place_id=place)):
        table.add_row(
            str(slot.id),
            str(slot.place_id),
            slot.topic,
            local_text(slot.starts_at, tz),
            local_text(slot.ends_at, tz),
            str(slot.booked),
            str(slot.capacity),
            "cancelled" if slot.cancelled else "open",
        )
    console.print(table if table.row_count else "No upcoming slots.")


@slots_app.command("add-slot")
def add_slot(
    place: PlaceOption,
    topic: Annotated[str, typer.Option(help="topic key: email, demarches, smartphone, …")],
    starts: Annotated[str, typer.Option(help="start, e.g. 2026-12-03T14:00 (local time)")],
    ends: Annotated[str, typer.Option(help="end, e.g. 2026-12-03T16:00 (local time)")],
    capacity: Annotated[int, typer.Option(help="seats")],
    title: Annotated[str | None, typer.Option(help="a title shown to people")] = None,
    language: Annotated[str, typer.Option(help="fr or en")] = "fr",
) -> None:
    """Create a slot (a session) at a place."""
    settings = settings_or_exit()
    starts_at = parse_time(starts, "--starts", settings.tz)
    ends_at = parse_time(ends, "--ends", settings.tz)
    assert starts_at is not None and ends_at is not None
    slot = handle(
        CreateSlot(
            place_id=place,
            topic=topic,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            language=language,
        )
    )
    console.print(f"Slot {slot.id} created: {_summary(slot, settings)}.", highlight=False)


@slots_app.command("move-slot")
def move_slot(
    slot_id: RecordId,
    starts: Annotated[str | None, typer.Option(help="new start (local time)")] = None,
    ends: Annotated[str | None, typer.Option(help="new end; kept as long when left out")] = None,
    capacity: Annotated[int | None, typer.Option(help="new number of seats")] = None,
) -> None:
    """Change a slot's time and/or capacity; people booked are told when the time moves."""
    if starts is None and ends is None and capacity is None:
        raise fail("say what changes: --starts, --ends and/or --capacity")
    settings = settings_or_exit()
    changed = handle(
        ChangeSlot(
            slot_id=slot_id,
            starts_at=parse_time(starts, "--starts", settings.tz),
            ends_at=parse_time(ends, "--ends", settings.tz),
            capacity=capacity,
        )
    )
    told = "; the people booked will be told" if changed.moved else ""
    console.print(
        f"Slot {slot_id} changed: {_summary(changed.slot, settings)}{told}.", highlight=False
    )


@slots_app.command("book")
def book(
    slot_id: RecordId,
    beneficiary_id: Annotated[
        int | None, typer.Argument(min=1, max=MAX_ID, help="beneficiary id (or --booklet)")
    ] = None,
    booklet: Annotated[str | None, typer.Option(help="a walk-in's booklet number")] = None,
    code: Annotated[str | None, typer.Option(help="that booklet's verification code")] = None,
) -> None:
    """Book a seat on a slot on behalf of a beneficiary (one voucher is reserved)."""
    if (booklet is None) != (code is None):
        raise fail("--booklet and --code go together")
    proof = BookletProof(booklet, code) if booklet is not None and code is not None else None
    booking = handle(BookOnBehalf(slot_id=slot_id, beneficiary_id=beneficiary_id, proof=proof))
    console.print(
        f"Booking {booking.id}: beneficiary {booking.beneficiary_id} booked on slot {slot_id} "
        "(one voucher reserved).",
        highlight=False,
    )


def _summary(slot: SlotView, settings: Settings) -> str:
    starts, ends = local_text(slot.starts_at, settings.tz), local_text(slot.ends_at, settings.tz)
    return f"{starts} to {ends}, {slot.booked}/{slot.capacity} booked"
