"""Follow-up reminders, planned by storage.reminder_plans.Planner after the J-1/H-2 ones.

- Vouchers: one message per booklet and expiry date, 30 days before and 7 days before; the
  30-day notice is useless once the 7-day one takes over, and that one once the vouchers expired.
- The day after a no-show, an offer to book again (if a voucher is left), valid for two days.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, select
from sqlmodel import Session

from storage.directory import DEFAULT_HELP
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
from storage.reminder_queries import existing_keys, not_in_outbox, outbox_key, reachable
from storage.reminder_texts import PERSON_COLUMNS, Person

if TYPE_CHECKING:
    from storage.reminder_plans import Planner

__all__ = ["expiry_rows", "no_show_rows"]

NO_SHOW_VALID = timedelta(days=2)


def expiry_rows(planner: Planner, session: Session) -> list[dict[str, Any] | None]:
    """Outbox rows (None when skipped) for vouchers expiring in the next 30 days."""
    today = planner.now.astimezone(planner.tz).date()
    query = (
        select(Booklet.number, Voucher.expires_on, func.count(Voucher.id), *PERSON_COLUMNS)
        .join(Booklet, Booklet.id == Voucher.booklet_id)  # type: ignore[arg-type]
        .join(Beneficiary, Beneficiary.id == Booklet.beneficiary_id)  # type: ignore[arg-type]
        .where(
            Voucher.status == VoucherStatus.AVAILABLE.value,
            reachable(),
            Voucher.expires_on.between(today, today + timedelta(days=30)),
        )  # type: ignore[attr-defined]
        .group_by(Booklet.number, Voucher.expires_on, *PERSON_COLUMNS)
    )
    rows = {_expiry_key(row, today): row for row in session.execute(query).all()}
    done = existing_keys(session, rows)
    return [_expiry(planner, key, row, today) for key, row in rows.items() if key not in done]


def _expiry_key(row: Any, today: date) -> str:
    kind = "expiry7" if row[1] <= today + timedelta(days=7) else "expiry30"
    return f"{kind}:voucher-batch:{row[0]}:{row[1].isoformat()}"


def _expiry(planner: Planner, key: str, row: Any, today: date) -> dict[str, Any] | None:
    # The 30-day notice is useless once the 7-day one takes over; that one, once expired.
    seven = key.startswith("expiry7")
    last_day = row[1] + timedelta(days=1) if seven else row[1] - timedelta(days=7)
    not_after = planner.local_at(last_day, time(0))
    send_at = planner.calendar.next_allowed(
        max(planner.local_at(today, planner.j1_at), planner.now)
    )
    if send_at >= not_after:
        return None
    params = {"expires_on": row[1], "available": row[2], "phone": DEFAULT_HELP.phone}
    return planner.row(Person(*row[3:]), "reminder.expiry", params, key, send_at, not_after)


def no_show_rows(planner: Planner, session: Session) -> list[dict[str, Any] | None]:
    """Outbox rows (None when skipped) offering a new booking after a recent no-show."""
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
            Slot.starts_at.between(planner.now - timedelta(days=3), planner.now),  # type: ignore[attr-defined]
            not_in_outbox(outbox_key("noshow:booking:", Booking.id)),
        )
    )
    return [_no_show(planner, row) for row in session.execute(query).all()]


def _no_show(planner: Planner, row: Any) -> dict[str, Any] | None:
    next_day = row[1].astimezone(planner.tz).date() + timedelta(days=1)
    due = planner.local_at(next_day, planner.j1_at)
    send_at = planner.calendar.next_allowed(max(due, planner.now))
    if send_at > due + NO_SHOW_VALID:
        return None
    params = {"starts_at": row[1], "phone": row[2] or DEFAULT_HELP.phone}
    return planner.row(
        Person(*row[3:]),
        "reminder.missed",
        params,
        f"noshow:booking:{row[0]}",
        send_at,
        due + NO_SHOW_VALID,
    )
