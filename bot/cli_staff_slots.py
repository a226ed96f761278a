"""`passnum staff …` for slots: list, add, move and book someone on one (the same storage
calls as the staff API's routes). Times without an offset are in the configured zone."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from bot.cli_staff_common import MAX_ID, RecordId, console, fail, local_text, now, parse_time, run
from config import Settings
from storage.access import BookletProof
from storage.models import Slot
from storage.slots_admin import book_for, change_slot, create_slot, list_slots
from storage.staff import CLI_ADMIN

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

    def work(session: Session, settings: Settings) -> Table:
        table = Table(title="Upcoming slots")
        for column in ("id", "place", "topic", "starts", "ends", "booked", "capacity", "status"):
            table.add_column(column)
        for slot in list_slots(session, staff=CLI_ADMIN, after=now(), place_id=place):
            table.add_row(
                str(slot.id),
                str(slot.place_id),
                slot.topic,
                local_text(slot.starts_at, settings.tz),
                local_text(slot.ends_at, settings.tz),
                str(slot.booked),
                str(slot.capacity),
                "cancelled" if slot.cancelled else "open",
            )
        return table

    table = run(work)
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

    def work(session: Session, settings: Settings) -> str:
        starts_at = parse_time(starts, "--starts", settings.tz)
        ends_at = parse_time(ends, "--ends", settings.tz)
        assert starts_at is not None and ends_at is not None
        slot = create_slot(
            session,
            staff=CLI_ADMIN,
            place_id=place,
            topic=topic,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            language=language,
            now=now(),
        )
        return f"Slot {slot.id} created: {_summary(slot, settings)}."

    console.print(run(work), highlight=False)


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

    def work(session: Session, settings: Settings) -> str:
        starts_at = parse_time(starts, "--starts", settings.tz)
        ends_at = parse_time(ends, "--ends", settings.tz)
        before = session.get(Slot, slot_id)
        was = before.starts_at if before is not None else None
        slot = change_slot(
            session,
            staff=CLI_ADMIN,
            slot_id=slot_id,
            now=now(),
            tz=settings.tz,
            two_way=settings.sms_two_way,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
        )
        told = "; the people booked will be told" if slot.starts_at != was else ""
        return f"Slot {slot_id} changed: {_summary(slot, settings)}{told}."

    console.print(run(work), highlight=False)


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
    booking = run(
        lambda s, _: book_for(
            s,
            staff=CLI_ADMIN,
            slot_id=slot_id,
            beneficiary_id=beneficiary_id,
            proof=proof,
            now=now(),
        )
    )
    console.print(
        f"Booking {booking.id}: beneficiary {booking.beneficiary_id} booked on slot {slot_id} "
        "(one voucher reserved).",
        highlight=False,
    )


def _summary(slot: Slot, settings: Settings) -> str:
    starts, ends = local_text(slot.starts_at, settings.tz), local_text(slot.ends_at, settings.tz)
    return f"{starts} to {ends}, {slot.booked}/{slot.capacity} booked"
