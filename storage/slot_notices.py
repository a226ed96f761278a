"""Slot-changed notices: a message to everyone booked on a slot that staff moved or cancelled
(the rules are in `notify_slot_changed`'s docstring), and how many that is by channel before
staff confirm (`slot_change_audience`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from storage.directory import DEFAULT_HELP
from storage.models import Beneficiary, Booking, BookingStatus, Place, Slot
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S
from storage.reminder_queries import cancel_queued
from storage.reminder_texts import (
    PERSON_COLUMNS,
    Person,
    Render,
    choose_address,
    enqueue_rows,
    reminder_row,
)

__all__ = ["notify_slot_changed", "slot_change_audience"]

SLOT_CHANGE_KEYS = {"cancelled": "reminder.slot_cancelled", "moved": "reminder.slot_moved"}
CANCELLED_WITH_SLOT = timedelta(minutes=10)


def notify_slot_changed(
    session: Session,
    slot_id: int,
    kind: str,
    now: datetime,
    *,
    render: Render,
    two_way: bool = True,
) -> int:
    """Queue a message to everyone booked on a slot that was `moved` or `cancelled` (staff
    tools call it in their transaction, after updating the slot). A cancellation also reaches
    bookings cancelled with the slot in the last 10 minutes. Sent even with reminders off (it
    is about their booking), never to opted-out people; quiet hours apply at sending.
    Queued J-1/H-2 reminders of the slot are cancelled, or deleted when it moved so the
    planner queues them again for the new time. `render` writes the texts (the caller builds
    it with the configured time zone). Returns how many messages were queued."""
    slot = session.get(Slot, slot_id)
    if slot is None or kind not in SLOT_CHANGE_KEYS:
        raise ValueError(f"no slot {slot_id} or unknown change {kind!r}")
    place = session.get(Place, slot.place_id)
    rows = session.execute(_slot_bookings(slot_id, kind, now)).all()
    params = {
        "starts_at": slot.starts_at,
        "starts_time": slot.starts_at,
        "place": place.name if place else "",
        "address": place.address if place else "",
        "commune": place.commune if place else "",
        "phone": (place.phone if place else None) or DEFAULT_HELP.phone,
    }
    stamp = f"{slot.starts_at:%Y%m%dT%H%M}"
    queued = enqueue_rows(
        session,
        (
            reminder_row(
                Person(*row[1:]),
                key=SLOT_CHANGE_KEYS[kind],
                params=params,
                dedupe_key=f"slot-{kind}:booking:{row[0]}:{stamp}",
                send_at=now,
                not_after=slot.starts_at,
                render=render,
                two_way=two_way,
            )
            for row in rows
        ),
        now=now,
    )
    _drop_slot_reminders(session, [row[0] for row in rows], kind, now)
    return queued


def slot_change_audience(session: Session, *, slot_id: int, now: datetime) -> dict[str, int]:
    """How many booked people a move or cancellation of the slot would tell, by channel: the
    same people and channel choice as `notify_slot_changed`."""
    told = {"sms": 0, "telegram": 0}
    for row in session.execute(_slot_bookings(slot_id, "moved", now)).all():
        target = choose_address(Person(*row[1:]))
        if target is not None:
            told[target[0]] = told.get(target[0], 0) + 1
    return told


def _slot_bookings(slot_id: int, kind: str, now: datetime) -> Any:
    live = Booking.status == BookingStatus.BOOKED.value
    if kind == "cancelled":
        live = live | (
            (Booking.status == BookingStatus.CANCELLED.value)
            & (Booking.updated_at >= now - CANCELLED_WITH_SLOT)
        )  # type: ignore[operator]
    return (
        select(Booking.id, *PERSON_COLUMNS)
        .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)  # type: ignore[arg-type]
        .where(
            Booking.slot_id == slot_id,
            live,
            Beneficiary.opted_out.is_(False),  # type: ignore[attr-defined]
            Beneficiary.erased_at.is_(None),
        )
    )  # type: ignore[union-attr]


def _drop_slot_reminders(
    session: Session, booking_ids: list[int], kind: str, now: datetime
) -> None:
    keys = [f"{p}:booking:{b}" for b in booking_ids for p in ("j1", "h2")]
    for start in range(0, len(keys), 500):
        pending = (Msg.dedupe_key.in_(keys[start : start + 500])) & (Msg.status == S.QUEUED.value)  # type: ignore[union-attr]
        if kind == "moved":
            session.execute(delete(Msg).where(pending))
        else:
            cancel_queued(session, now, "slot cancelled", pending)
