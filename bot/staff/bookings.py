"""Bookings and attendance as staff commands: who is booked on a slot, the day's sessions
with their attendees, a seat booked on someone's behalf, present or absent.

- A seat is booked for a person the staff member may act on (`storage.access`), or for a
  walk-in whose booklet number and verification code are given (five wrong codes in an hour
  stop the advisor's walk-in bookings).
- Attended redeems the voucher; a no-show follows `PASSNUM_NO_SHOW_POLICY`
  (`flows.attendance`: the voucher is given back, or consumed).
Every change is audited (`booking.create`, `booking.attendance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from bot.staff.service import Command, Context, Handler
from bot.staff.slots import SlotView, slot_of_mine, slots_in_view
from flows.attendance import attendance_outcome
from storage import slots_admin as store
from storage.access import BookletProof, beneficiary_for_staff, person_to_book
from storage.console_queries import find_people, place_names
from storage.models import Booking
from storage.slots_admin import Attendee

__all__ = [
    "HANDLERS",
    "BookOnBehalf",
    "BookPersonFound",
    "BookingView",
    "DayOfSessions",
    "MarkAttendance",
    "PersonFoundBooking",
    "SessionOfDay",
    "SessionsOfDay",
    "SlotAttendees",
]


@dataclass(frozen=True)
class BookingView:
    """`{"id": 9, "slot_id": 7, "beneficiary_id": 3, "status": "booked", "voucher_id": 21}`"""

    id: int
    slot_id: int
    beneficiary_id: int
    status: str
    voucher_id: int | None

    @classmethod
    def of(cls, booking: Booking) -> BookingView:
        return cls(
            booking.id or 0,
            booking.slot_id,
            booking.beneficiary_id,
            booking.status,
            booking.voucher_id,
        )


@dataclass(frozen=True)
class SlotAttendees(Command[list[Attendee]]):
    """`{"slot_id": 7}` → everyone booked on it (cancelled bookings left out): the sheet."""

    read_only: ClassVar[bool] = True
    slot_id: int


@dataclass(frozen=True)
class SessionsOfDay(Command["DayOfSessions"]):
    """`{"day": "2026-12-03"}` (null: today) → my places' sessions that day, attendees in."""

    read_only: ClassVar[bool] = True
    day: date | None = None


@dataclass(frozen=True)
class BookOnBehalf(Command[BookingView]):
    """`{"slot_id": 7, "beneficiary_id": 3}`, or a walk-in:
    `{"slot_id": 7, "proof": {"number": "PN-0001", "code": "4821"}}` (one voucher reserved)."""

    slot_id: int
    beneficiary_id: int | None = None
    proof: BookletProof | None = None


@dataclass(frozen=True)
class BookPersonFound(Command["PersonFoundBooking"]):
    """`{"slot_id": 7, "search": "Aïcha"}`: book the one person found by first name, phone
    or booklet number among those I may act on; nobody is booked when 0 or several match."""

    slot_id: int
    search: str


@dataclass(frozen=True)
class MarkAttendance(Command[BookingView]):
    """`{"booking_id": 9, "attended": false}`: present redeems the voucher; absent follows
    the no-show policy."""

    booking_id: int
    attended: bool


@dataclass(frozen=True)
class SessionOfDay:
    slot: SlotView
    place: str
    attendees: list[Attendee]


@dataclass(frozen=True)
class DayOfSessions:
    day: date
    is_today: bool
    sessions: list[SessionOfDay]


@dataclass(frozen=True)
class PersonFoundBooking:
    """`matches` people found; `booking` made when exactly one was."""

    matches: int
    booking: BookingView | None


def slot_attendees(context: Context, command: SlotAttendees) -> list[Attendee]:
    slot_of_mine(context, command.slot_id)
    return store.slot_attendees(context.session, slot_id=command.slot_id)


def sessions_of_day(context: Context, command: SessionsOfDay) -> DayOfSessions:
    tz = context.settings.tz
    today = context.now.astimezone(tz).date()
    day = command.day or today
    start = datetime.combine(day, time(), tzinfo=tz)
    places = {
        pid: f"{name} ({commune})"
        for pid, name, commune in place_names(context.session, staff=context.staff)
    }
    slots = store.upcoming_slots(
        context.session,
        after=start,
        before=start + timedelta(days=1),
        place_ids=slots_in_view(context, None),
    )
    sessions = [
        SessionOfDay(
            SlotView.of(slot),
            places.get(slot.place_id, str(slot.place_id)),
            store.slot_attendees(context.session, slot_id=slot.id or 0),
        )
        for slot in slots
        if not slot.cancelled
    ]
    return DayOfSessions(day, day == today, sessions)


def _book(context: Context, slot_id: int, person_id: int, proof: BookletProof | None) -> Booking:
    booking = store.book_seat(
        context.session, slot_id=slot_id, beneficiary_id=person_id, now=context.now
    )
    walk_in = f" walk-in booklet {proof.number}" if proof is not None else ""
    context.audit(
        "booking.create",
        f"booking:{booking.id}",
        f"slot:{slot_id} beneficiary:{person_id}{walk_in}",
    )
    return booking


def book_on_behalf(context: Context, command: BookOnBehalf) -> BookingView:
    slot_of_mine(context, command.slot_id)
    person_id = person_to_book(
        context.session,
        context.staff,
        beneficiary_id=command.beneficiary_id,
        proof=command.proof,
        now=context.now,
    )
    return BookingView.of(_book(context, command.slot_id, person_id, command.proof))


def book_person_found(context: Context, command: BookPersonFound) -> PersonFoundBooking:
    slot_of_mine(context, command.slot_id)
    hits = find_people(context.session, staff=context.staff, text=command.search)
    if len(hits) != 1:
        return PersonFoundBooking(len(hits), None)
    person_id = person_to_book(
        context.session, context.staff, beneficiary_id=hits[0].id, proof=None, now=context.now
    )
    booking = _book(context, command.slot_id, person_id, None)
    return PersonFoundBooking(1, BookingView.of(booking))


def mark_attendance(context: Context, command: MarkAttendance) -> BookingView:
    booking = store.booking_by_id(context.session, command.booking_id)
    slot_of_mine(context, booking.slot_id)
    beneficiary_for_staff(context.session, context.staff, booking.beneficiary_id)
    outcome = attendance_outcome(
        attended=command.attended, no_show_policy=context.settings.no_show_policy
    )
    store.record_attendance(
        context.session,
        booking=booking,
        booking_status=outcome.booking_status,
        voucher_status=outcome.voucher_status,
        now=context.now,
    )
    context.audit("booking.attendance", f"booking:{booking.id}", outcome.booking_status)
    return BookingView.of(booking)


HANDLERS: dict[type[Any], Handler] = {
    SlotAttendees: slot_attendees,
    SessionsOfDay: sessions_of_day,
    BookOnBehalf: book_on_behalf,
    BookPersonFound: book_person_found,
    MarkAttendance: mark_attendance,
}
