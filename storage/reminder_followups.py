"""Follow-up reminders, storage side: who has vouchers expiring soon, who missed a booking.

The rules (when the notices go, what they say) are flows.outbound's; bot.outbox.reminder_planning
reads with these queries and queues what the rules give back.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlmodel import Session

from flows.types import ExpiringVouchers, MissedBooking, Recipient
from storage.models import (
    Beneficiary,
    Booking,
    BookingStatus,
    Booklet,
    Place,
    Slot,
    Voucher,
    VoucherStatus,
)
from storage.reminder_queries import not_in_outbox, outbox_key, reachable
from storage.reminder_texts import PERSON_COLUMNS

__all__ = ["expiring_vouchers", "missed_bookings"]


def expiring_vouchers(session: Session, *, first: date, last: date) -> list[ExpiringVouchers]:
    """Available vouchers expiring between `first` and `last` (included), per booklet and day,
    of people who may get reminders."""
    query = (
        select(Booklet.number, Voucher.expires_on, func.count(Voucher.id), *PERSON_COLUMNS)
        .join(Booklet, Booklet.id == Voucher.booklet_id)  # type: ignore[arg-type]
        .join(Beneficiary, Beneficiary.id == Booklet.beneficiary_id)  # type: ignore[arg-type]
        .where(
            Voucher.status == VoucherStatus.AVAILABLE.value,
            reachable(),
            Voucher.expires_on.between(first, last),  # type: ignore[attr-defined]
        )
        .group_by(Booklet.number, Voucher.expires_on, *PERSON_COLUMNS)
    )
    return [
        ExpiringVouchers(row[0], row[1], row[2], Recipient(*row[3:]))
        for row in session.execute(query).all()
    ]


def missed_bookings(session: Session, *, since: datetime, until: datetime) -> list[MissedBooking]:
    """No-shows of slots that started between `since` and `until`, of people who may get
    reminders and have a voucher left, not offered a new booking yet (`noshow:booking:<id>`)."""
    has_voucher = (
        exists()
        .where(Voucher.booklet_id == Booklet.id, Voucher.status == VoucherStatus.AVAILABLE.value)
        .where(Booklet.beneficiary_id == Beneficiary.id)
    )
    query = (
        select(Booking.id, Slot.starts_at, Place.phone, *PERSON_COLUMNS)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Place, Place.id == Slot.place_id)  # type: ignore[arg-type]
        .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)  # type: ignore[arg-type]
        .where(
            Booking.status == BookingStatus.NO_SHOW.value,
            reachable(),
            has_voucher,
            Slot.starts_at.between(since, until),  # type: ignore[attr-defined]
            not_in_outbox(outbox_key("noshow:booking:", Booking.id)),
        )
    )
    return [
        MissedBooking(row[0], row[1], row[2], Recipient(*row[3:]))
        for row in session.execute(query).all()
    ]
