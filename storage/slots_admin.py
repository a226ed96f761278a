"""Queries and writes behind the staff's slot work: create, reschedule and cancel a slot, book
a seat on someone's behalf, record attendance, list slots and who is booked.

Who may do what, the audit entries and the settings (time zone, no-show policy) are the
handlers' (`bot.staff.slots`); these functions take plain values. They raise `StaffRefused`
for what the data forbids (a slot that does not exist, a capacity below the people booked,
a booking already marked), which the handler lets through to the front-end.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.booking import BookingRefused, release_booking, reserve_seat
from storage.models import (
    Beneficiary,
    Booking,
    BookingStatus,
    Place,
    Slot,
    Topic,
    VoucherStatus,
)
from storage.staff import StaffRefused
from storage.types import MAX_YEAR, MIN_YEAR, in_service_years

__all__ = [
    "Attendee",
    "add_slot",
    "book_seat",
    "booking_by_id",
    "cancel_slot",
    "check_place_exists",
    "record_attendance",
    "reschedule_slot",
    "slot_attendees",
    "slot_by_id",
    "upcoming_slots",
]


@dataclass(frozen=True)
class Attendee:
    """One booking of a slot. `{"booking_id": 9, "beneficiary_id": 3, "first_name": "Aïcha",
    "status": "booked"}`"""

    booking_id: int
    beneficiary_id: int
    first_name: str
    status: str


def slot_by_id(session: Session, slot_id: int) -> Slot:
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise StaffRefused("not_found", f"no slot {slot_id}")
    return slot


def booking_by_id(session: Session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise StaffRefused("not_found", f"no booking {booking_id}")
    return booking


def check_place_exists(session: Session, place_id: int) -> None:
    if session.get(Place, place_id) is None:
        raise StaffRefused("not_found", f"no place {place_id}")


def _check_times(starts_at: datetime, ends_at: datetime, capacity: int, booked: int) -> None:
    if not (in_service_years(starts_at) and in_service_years(ends_at)):
        raise StaffRefused("invalid", f"slot times must be between {MIN_YEAR} and {MAX_YEAR}")
    if ends_at <= starts_at:
        raise StaffRefused("invalid", "the slot must end after it starts")
    if capacity < max(booked, 1):
        raise StaffRefused(
            "invalid",
            f"capacity {capacity} is below the {booked} people booked"
            if booked
            else "capacity must be at least 1",
        )


def add_slot(
    session: Session,
    *,
    place_id: int,
    topic: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    title: str | None = None,
    language: str = "fr",
) -> Slot:
    """A new session at an existing place, on a known topic."""
    if session.get(Topic, topic) is None:
        raise StaffRefused("invalid", f"unknown topic {topic!r}")
    _check_times(starts_at, ends_at, capacity, 0)
    slot = Slot(
        external_id=f"staff-{uuid.uuid4().hex}",
        place_id=place_id,
        topic=topic,
        title=title,
        language=language,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
    )
    session.add(slot)
    session.flush()
    return slot


def reschedule_slot(
    session: Session,
    *,
    slot: Slot,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    capacity: int | None = None,
) -> bool:
    """New time and/or capacity (a new start alone keeps the length); returns whether the
    start moved."""
    if slot.cancelled:
        raise StaffRefused("conflict", f"slot {slot.id} is cancelled")
    moved = starts_at is not None and starts_at != slot.starts_at
    if starts_at is not None and ends_at is None:
        ends_at = starts_at + (slot.ends_at - slot.starts_at)
    slot.starts_at, slot.ends_at = starts_at or slot.starts_at, ends_at or slot.ends_at
    slot.capacity = capacity if capacity is not None else slot.capacity
    _check_times(slot.starts_at, slot.ends_at, slot.capacity, slot.booked)
    session.flush()
    return moved


def cancel_slot(session: Session, *, slot: Slot, now: datetime) -> None:
    """Mark the slot cancelled and give every live booking's voucher back."""
    if slot.cancelled:
        raise StaffRefused("conflict", f"slot {slot.id} is already cancelled")
    slot.cancelled = True
    live = session.scalars(
        select(Booking).where(
            Booking.slot_id == slot.id, Booking.status == BookingStatus.BOOKED.value
        )
    )
    for booking in list(live):
        release_booking(
            session,
            booking=booking,
            status=BookingStatus.CANCELLED,
            voucher_status=VoucherStatus.AVAILABLE,
            now=now,
        )
    session.flush()


def book_seat(session: Session, *, slot_id: int, beneficiary_id: int, now: datetime) -> Booking:
    """A seat and one voucher for the person, in a savepoint: a refusal ("slot_full",
    "no_voucher", …) is a conflict and leaves the transaction as it was."""
    try:
        with session.begin_nested():
            return reserve_seat(session, beneficiary_id=beneficiary_id, slot_id=slot_id, now=now)
    except BookingRefused as refused:
        raise StaffRefused("conflict", f"cannot book: {refused.reason}") from None


def record_attendance(
    session: Session,
    *,
    booking: Booking,
    booking_status: str,
    voucher_status: str,
    now: datetime,
) -> Booking:
    """A live booking becomes attended or no-show, its voucher redeemed or given back."""
    if booking.status != BookingStatus.BOOKED.value:
        raise StaffRefused("conflict", f"booking {booking.id} is already {booking.status}")
    release_booking(
        session,
        booking=booking,
        status=BookingStatus(booking_status),
        voucher_status=VoucherStatus(voucher_status),
        now=now,
    )
    session.refresh(booking)
    return booking


def slot_attendees(session: Session, *, slot_id: int) -> list[Attendee]:
    """Everyone booked on the slot, with the booking's status (cancelled ones left out)."""
    rows = session.execute(
        select(Booking.id, Beneficiary.id, Beneficiary.first_name, Booking.status)
        .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)
        .where(Booking.slot_id == slot_id, Booking.status != BookingStatus.CANCELLED.value)
        .order_by(Booking.id)
    ).all()
    return [Attendee(*row) for row in rows]


def upcoming_slots(
    session: Session,
    *,
    after: datetime,
    place_ids: Collection[int] | None,
    before: datetime | None = None,
    limit: int = 200,
) -> list[Slot]:
    """Slots starting from `after` (and before `before`), at `place_ids` (None: every place),
    in time order."""
    query = select(Slot).where(Slot.starts_at >= after).order_by(Slot.starts_at).limit(limit)
    if before is not None:
        query = query.where(Slot.starts_at < before)
    if place_ids is not None:
        query = query.where(Slot.place_id.in_(place_ids))
    return list(session.scalars(query))
