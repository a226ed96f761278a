"""Seat booking and voucher reservation, atomic on SQLite and PostgreSQL.

Each change is one conditional UPDATE whose WHERE clause re-checks the condition
(`booked < capacity`, `status = 'available'`): PostgreSQL re-evaluates it on the locked row after a
concurrent writer commits, and SQLite serialises writers (BEGIN IMMEDIATE, see storage.db), so two
people racing for the last seat cannot both get it and a voucher is never reserved twice.
Functions raise `BookingRefused`; the caller rolls the transaction (or savepoint) back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlmodel import Session

from storage.models import Booking, BookingStatus, Booklet, Slot, Voucher, VoucherStatus

__all__ = ["BookingRefused", "cancel_booking", "reserve_seat", "release_booking"]

_VOUCHER_ATTEMPTS = 5


class BookingRefused(Exception):
    """The store refused: `reason` is slot_full, no_voucher, slot_gone, already_booked,
    too_late or not_found (the flows' `Rejected` reasons)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _claim_voucher(session: Session, *, beneficiary_id: int, now: datetime) -> int:
    """Reserve the available voucher that expires first; retry if someone else took it."""
    for _ in range(_VOUCHER_ATTEMPTS):
        voucher_id = session.scalar(
            select(Voucher.id)
            .join(Booklet, Booklet.id == Voucher.booklet_id)  # type: ignore[arg-type]
            .where(
                Booklet.beneficiary_id == beneficiary_id,
                Voucher.status == VoucherStatus.AVAILABLE.value,
                Voucher.expires_on >= now.date(),  # type: ignore[operator]
            )
            .order_by(Voucher.expires_on, Voucher.id)  # type: ignore[arg-type]
            .limit(1)
        )
        if voucher_id is None:
            raise BookingRefused("no_voucher")
        claimed = session.execute(
            update(Voucher)
            .where(and_(Voucher.id == voucher_id, Voucher.status == VoucherStatus.AVAILABLE.value))
            .values(status=VoucherStatus.RESERVED.value, updated_at=now)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return voucher_id
    raise BookingRefused("no_voucher")


def reserve_seat(session: Session, *, beneficiary_id: int, slot_id: int, now: datetime) -> Booking:
    """Book a seat on the slot and reserve one voucher, or raise BookingRefused."""
    slot = session.get(Slot, slot_id)
    if slot is None or slot.cancelled or slot.starts_at <= now:
        raise BookingRefused("slot_gone")
    already = session.scalar(
        select(Booking.id).where(
            Booking.slot_id == slot_id,
            Booking.beneficiary_id == beneficiary_id,
            Booking.status == BookingStatus.BOOKED.value,
        )
    )
    if already is not None:
        raise BookingRefused("already_booked")
    voucher_id = _claim_voucher(session, beneficiary_id=beneficiary_id, now=now)
    seat = session.execute(
        update(Slot)
        .where(
            and_(Slot.id == slot_id, Slot.booked < Slot.capacity, Slot.cancelled.is_(False))  # type: ignore[attr-defined,operator]
        )
        .values(booked=Slot.booked + 1)
    )
    if seat.rowcount != 1:  # type: ignore[attr-defined]
        raise BookingRefused("slot_full")
    booking = Booking(
        slot_id=slot_id,
        beneficiary_id=beneficiary_id,
        voucher_id=voucher_id,
        created_at=now,
        updated_at=now,
    )
    session.add(booking)
    session.flush()
    return booking


def release_booking(
    session: Session,
    *,
    booking: Booking,
    status: BookingStatus,
    voucher_status: VoucherStatus,
    now: datetime,
) -> None:
    """Move a live booking to `status`, free its seat and set its voucher's status."""
    changed = session.execute(
        update(Booking)
        .where(and_(Booking.id == booking.id, Booking.status == BookingStatus.BOOKED.value))
        .values(status=status.value, updated_at=now)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise BookingRefused("not_found")
    session.execute(update(Slot).where(Slot.id == booking.slot_id).values(booked=Slot.booked - 1))
    session.execute(
        update(Voucher)
        .where(Voucher.id == booking.voucher_id)
        .values(status=voucher_status.value, updated_at=now)
    )
    session.expire(booking)


def cancel_booking(
    session: Session,
    *,
    booking_id: int,
    now: datetime,
    beneficiary_id: int | None = None,
    cutoff: timedelta | None = None,
) -> Booking:
    """Cancel a live booking and give its voucher back; a beneficiary (not staff) is held to
    the cut-off before the start."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.status != BookingStatus.BOOKED.value:
        raise BookingRefused("not_found")
    if beneficiary_id is not None and booking.beneficiary_id != beneficiary_id:
        raise BookingRefused("not_found")
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    if cutoff is not None and slot.starts_at - now < cutoff:
        raise BookingRefused("too_late")
    release_booking(
        session,
        booking=booking,
        status=BookingStatus.CANCELLED,
        voucher_status=VoucherStatus.AVAILABLE,
        now=now,
    )
    return booking
