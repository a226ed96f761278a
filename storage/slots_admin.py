"""Staff work on slots: create, change, cancel, book on someone's behalf, mark attendance.

Advisors act on their own places only (StaffRefused "forbidden"), and on the people
`storage.access` lets them act on; booking a walk-in needs their booklet's number and code.
Booked people hear about a
moved or cancelled slot through `storage.reminders.notify_slot_changed`, in the same
transaction; a cancelled slot gives every voucher back. Attended redeems the voucher; a no-show
follows the policy (`return` the voucher, or `consume` it). Every action is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlmodel import Session

from storage.access import BookletProof, beneficiary_for_staff, person_to_book
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
from storage.reminders import notify_slot_changed
from storage.staff import StaffIdentity, StaffRefused, actor_of, audit, require_place
from storage.types import MAX_YEAR, MIN_YEAR, in_service_years

__all__ = [
    "Attendee",
    "book_for",
    "cancel_slot",
    "change_slot",
    "create_slot",
    "list_slots",
    "mark_attendance",
    "slot_attendees",
]


@dataclass(frozen=True)
class Attendee:
    """One booking of a slot. `{"booking_id": 9, "beneficiary_id": 3, "first_name": "Aïcha",
    "status": "booked"}`"""

    booking_id: int
    beneficiary_id: int
    first_name: str
    status: str


def _slot(session: Session, staff: StaffIdentity, slot_id: int) -> Slot:
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise StaffRefused("not_found", f"no slot {slot_id}")
    require_place(staff, slot.place_id, f"slot {slot_id}")
    return slot


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


def _audit(
    session: Session,
    staff: StaffIdentity,
    action: str,
    record: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    audit(session, actor=actor_of(staff), action=action, record=record, detail=detail, now=now)


def create_slot(
    session: Session,
    *,
    staff: StaffIdentity,
    place_id: int,
    topic: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    now: datetime,
    title: str | None = None,
    language: str = "fr",
) -> Slot:
    """A new session at one of the staff member's places."""
    if session.get(Place, place_id) is None:
        raise StaffRefused("not_found", f"no place {place_id}")
    require_place(staff, place_id, f"place {place_id}")
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
    _audit(session, staff, "slot.create", f"slot:{slot.id}", now, f"{starts_at.isoformat()}")
    return slot


def change_slot(
    session: Session,
    *,
    staff: StaffIdentity,
    slot_id: int,
    now: datetime,
    tz: tzinfo,
    two_way: bool,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    capacity: int | None = None,
) -> Slot:
    """New time and/or capacity; booked people are told when the time moves."""
    slot = _slot(session, staff, slot_id)
    if slot.cancelled:
        raise StaffRefused("conflict", f"slot {slot_id} is cancelled")
    moved = starts_at is not None and starts_at != slot.starts_at
    if starts_at is not None and ends_at is None:
        ends_at = starts_at + (slot.ends_at - slot.starts_at)
    slot.starts_at, slot.ends_at = starts_at or slot.starts_at, ends_at or slot.ends_at
    slot.capacity = capacity if capacity is not None else slot.capacity
    _check_times(slot.starts_at, slot.ends_at, slot.capacity, slot.booked)
    session.flush()
    told = 0
    if moved:
        told = notify_slot_changed(session, slot_id, "moved", now, tz=tz, two_way=two_way)
    _audit(
        session,
        staff,
        "slot.change",
        f"slot:{slot_id}",
        now,
        f"starts {slot.starts_at.isoformat()}, capacity {slot.capacity}, {told} told",
    )
    return slot


def cancel_slot(
    session: Session,
    *,
    staff: StaffIdentity,
    slot_id: int,
    now: datetime,
    tz: tzinfo,
    two_way: bool,
) -> int:
    """Cancel the slot, give the vouchers back and tell the booked people; returns how many
    messages were queued."""
    slot = _slot(session, staff, slot_id)
    if slot.cancelled:
        raise StaffRefused("conflict", f"slot {slot_id} is already cancelled")
    slot.cancelled = True
    live = session.scalars(
        select(Booking).where(
            Booking.slot_id == slot_id, Booking.status == BookingStatus.BOOKED.value
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
    told = notify_slot_changed(session, slot_id, "cancelled", now, tz=tz, two_way=two_way)
    _audit(session, staff, "slot.cancel", f"slot:{slot_id}", now, f"{told} people told")
    return told


def book_for(
    session: Session,
    *,
    staff: StaffIdentity,
    slot_id: int,
    now: datetime,
    beneficiary_id: int | None = None,
    proof: BookletProof | None = None,
) -> Booking:
    """Book a seat for a beneficiary (one of their vouchers is reserved): someone `staff` may
    act on, or a walk-in proven by their booklet's number and code (storage.access)."""
    _slot(session, staff, slot_id)
    person_id = person_to_book(session, staff, beneficiary_id=beneficiary_id, proof=proof, now=now)
    try:
        with session.begin_nested():
            booking = reserve_seat(session, beneficiary_id=person_id, slot_id=slot_id, now=now)
    except BookingRefused as refused:
        raise StaffRefused("conflict", f"cannot book: {refused.reason}") from None
    walk_in = f" walk-in booklet {proof.number}" if proof is not None else ""
    _audit(
        session,
        staff,
        "booking.create",
        f"booking:{booking.id}",
        now,
        f"slot:{slot_id} beneficiary:{person_id}{walk_in}",
    )
    return booking


def slot_attendees(session: Session, *, staff: StaffIdentity, slot_id: int) -> list[Attendee]:
    """Everyone booked on the slot, with the booking's status (cancelled ones left out)."""
    _slot(session, staff, slot_id)
    rows = session.execute(
        select(Booking.id, Beneficiary.id, Beneficiary.first_name, Booking.status)
        .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)
        .where(Booking.slot_id == slot_id, Booking.status != BookingStatus.CANCELLED.value)
        .order_by(Booking.id)
    ).all()
    return [Attendee(*row) for row in rows]


def mark_attendance(
    session: Session,
    *,
    staff: StaffIdentity,
    booking_id: int,
    attended: bool,
    no_show_policy: str,
    now: datetime,
) -> Booking:
    """Attended redeems the voucher; a no-show returns or consumes it per the policy."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise StaffRefused("not_found", f"no booking {booking_id}")
    _slot(session, staff, booking.slot_id)
    beneficiary_for_staff(session, staff, booking.beneficiary_id)
    if booking.status != BookingStatus.BOOKED.value:
        raise StaffRefused("conflict", f"booking {booking_id} is already {booking.status}")
    status = BookingStatus.ATTENDED if attended else BookingStatus.NO_SHOW
    keep = attended or no_show_policy == "consume"
    release_booking(
        session,
        booking=booking,
        status=status,
        voucher_status=VoucherStatus.REDEEMED if keep else VoucherStatus.AVAILABLE,
        now=now,
    )
    session.refresh(booking)
    _audit(session, staff, "booking.attendance", f"booking:{booking_id}", now, status.value)
    return booking


def list_slots(
    session: Session,
    *,
    staff: StaffIdentity,
    after: datetime,
    place_id: int | None = None,
    limit: int = 200,
) -> list[Slot]:
    """Upcoming slots of one place or of every place the staff member may see."""
    query = select(Slot).where(Slot.starts_at >= after).order_by(Slot.starts_at).limit(limit)
    if place_id is not None:
        require_place(staff, place_id, f"place {place_id}")
        query = query.where(Slot.place_id == place_id)
    elif not staff.is_admin:
        query = query.where(Slot.place_id.in_(staff.place_ids))
    return list(session.scalars(query))
