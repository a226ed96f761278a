"""The last message we sent an address about one booking (a reminder, a changed slot), so
that a reply such as "c'est où ?" or "je pourrai pas venir" is read as being about it.

No new table: the outbox already names the booking in its dedupe key (`j1:booking:12`,
`h2:booking:12`, `slot-moved:booking:12:…`); the beneficiary index keeps the lookup small.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlmodel import Session

from flows.types import BookingNotice
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus

__all__ = ["NOTICE_KEYS", "NOTICE_LIFETIME", "booking_id_of_key", "last_booking_notice"]

NOTICE_KEYS = ("j1:booking:", "h2:booking:", "slot-moved:booking:")
NOTICE_LIFETIME = timedelta(days=1)
_SENT = (OutboundStatus.SENT.value, OutboundStatus.DELIVERED.value)


def booking_id_of_key(key: str) -> int | None:
    tail = key.split(":booking:", 1)[-1].split(":", 1)[0]
    return int(tail) if tail.isdigit() else None


def last_booking_notice(
    session: Session, *, beneficiary_id: int, address: str, now: datetime
) -> BookingNotice | None:
    """The newest booking message sent to this address in the last day, if any."""
    row = session.execute(
        select(Msg.dedupe_key, Msg.updated_at)
        .where(
            Msg.beneficiary_id == beneficiary_id,
            Msg.address == address,
            Msg.status.in_(_SENT),  # type: ignore[attr-defined]
            Msg.updated_at >= now - NOTICE_LIFETIME,  # type: ignore[operator]
            or_(*(Msg.dedupe_key.startswith(prefix) for prefix in NOTICE_KEYS)),  # type: ignore[union-attr]
        )
        .order_by(Msg.updated_at.desc())  # type: ignore[attr-defined]
        .limit(1)
    ).first()
    if row is None or row[0] is None:
        return None
    booking_id = booking_id_of_key(row[0])
    return BookingNotice(booking_id, row[1]) if booking_id is not None else None
