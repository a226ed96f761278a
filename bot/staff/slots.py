"""Slots as staff commands: list them, a week per place, create, move or resize, cancel, and
who a move or cancellation would tell before it is confirmed.

Advisors act on their own places only (`storage.staff.require_place`: "forbidden"). Booked
people hear about a moved or cancelled slot in the same unit of work
(`storage.slot_notices.notify_slot_changed`, texts in the configured time zone, one-way SMS
wording when `PASSNUM_SMS_TWO_WAY` is false); a cancelled slot gives every voucher back.
Times without an offset are in the configured zone, like the CSV imports.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from bot.outbox.notices import notice_composer
from bot.staff.service import Command, Context, Handler
from storage import slots_admin as store
from storage.console_queries import place_names, topic_keys
from storage.models import Slot
from storage.slot_notices import notify_slot_changed, slot_change_audience
from storage.slots_admin import Attendee
from storage.staff import StaffRefused, require_place
from storage.types import MAX_YEAR, MIN_YEAR, in_service_years

__all__ = [
    "HANDLERS",
    "CancelSlot",
    "ChangeSlot",
    "CreateSlot",
    "ListSlots",
    "SlotChangeImpact",
    "SlotChanged",
    "SlotImpact",
    "SlotView",
    "SlotsOfWeek",
    "WeekOfSlots",
    "slot_of_mine",
    "slots_in_view",
]


@dataclass(frozen=True)
class SlotView:
    """A slot as the front-ends show it. `{"id": 7, "place_id": 1, "topic": "email",
    "title": null, "language": "fr", "starts_at": "2026-12-03T14:00:00+01:00",
    "ends_at": "2026-12-03T16:00:00+01:00", "capacity": 8, "booked": 3, "cancelled": false}`"""

    id: int
    place_id: int
    topic: str
    title: str | None
    language: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    cancelled: bool

    @classmethod
    def of(cls, slot: Slot) -> SlotView:
        return cls(
            slot.id or 0,
            slot.place_id,
            slot.topic,
            slot.title,
            slot.language,
            slot.starts_at,
            slot.ends_at,
            slot.capacity,
            slot.booked,
            slot.cancelled,
        )


@dataclass(frozen=True)
class ListSlots(Command[list[SlotView]]):
    """`{"place_id": 1}` (or null: every place of mine) → the upcoming slots, by time."""

    read_only: ClassVar[bool] = True
    place_id: int | None = None


@dataclass(frozen=True)
class WeekOfSlots(Command["SlotsOfWeek"]):
    """`{"place_id": 1, "day": "2026-12-03"}` → the week (Monday to Sunday) holding `day`
    (null: today) at the place (null: my first place), with my places and the topics."""

    read_only: ClassVar[bool] = True
    place_id: int | None = None
    day: date | None = None


@dataclass(frozen=True)
class CreateSlot(Command[SlotView]):
    """`{"place_id": 1, "topic": "email", "starts_at": "2026-12-03T14:00",
    "ends_at": "2026-12-03T16:00", "capacity": 8, "title": null, "language": "fr"}`"""

    place_id: int
    topic: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    title: str | None = None
    language: str = "fr"


@dataclass(frozen=True)
class ChangeSlot(Command["SlotChanged"]):
    """`{"slot_id": 7, "starts_at": "2026-12-04T14:00", "ends_at": null, "capacity": 10}`:
    a new start alone keeps the length; the booked people are told when the start moves."""

    slot_id: int
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class CancelSlot(Command["SlotChanged"]):
    """`{"slot_id": 7}`: vouchers go back, the booked people are told."""

    slot_id: int


@dataclass(frozen=True)
class SlotChangeImpact(Command["SlotImpact"]):
    """`{"slot_id": 7}` → who is booked and how many would be told by each channel."""

    read_only: ClassVar[bool] = True
    slot_id: int


@dataclass(frozen=True)
class SlotsOfWeek:
    """One week of one place: `places` are (id, name, commune) of mine, `topics` (key,
    French label, English label), `days` the seven days with their slots."""

    places: list[tuple[int, str, str]]
    place_id: int
    monday: date
    days: list[tuple[date, list[SlotView]]]
    topics: list[tuple[str, str, str]]


@dataclass(frozen=True)
class SlotChanged:
    """After a move or a cancellation: `told` messages queued, `by_channel` the people told
    per channel (`{"sms": 12, "telegram": 3}`), `moved` whether the start changed."""

    slot: SlotView
    moved: bool
    told: int
    by_channel: dict[str, int]


@dataclass(frozen=True)
class SlotImpact:
    """Before a move or a cancellation ("12 people will be told by SMS, 3 by Telegram")."""

    slot: SlotView
    people: list[Attendee]
    by_channel: dict[str, int]


NOBODY = {"sms": 0, "telegram": 0}


def slot_of_mine(context: Context, slot_id: int) -> Slot:
    """The slot, when it exists and is at one of the staff member's places."""
    slot = store.slot_by_id(context.session, slot_id)
    require_place(context.staff, slot.place_id, f"slot {slot_id}")
    return slot


def slots_in_view(context: Context, place_id: int | None) -> Collection[int] | None:
    """The places a listing covers: the one asked for (if mine), else all of mine (None:
    every place, for admins)."""
    if place_id is not None:
        require_place(context.staff, place_id, f"place {place_id}")
        return (place_id,)
    return None if context.staff.is_admin else context.staff.place_ids


def _in_zone(context: Context, moment: datetime) -> datetime:
    if not in_service_years(moment):
        raise StaffRefused("invalid", f"times must be between {MIN_YEAR} and {MAX_YEAR}")
    return moment if moment.tzinfo else moment.replace(tzinfo=context.settings.tz)


def list_slots(context: Context, command: ListSlots) -> list[SlotView]:
    places = slots_in_view(context, command.place_id)
    rows = store.upcoming_slots(context.session, after=context.now, place_ids=places)
    return [SlotView.of(slot) for slot in rows]


def week_of_slots(context: Context, command: WeekOfSlots) -> SlotsOfWeek:
    tz = context.settings.tz
    day = command.day or context.now.astimezone(tz).date()
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time(), tzinfo=tz)
    places = place_names(context.session, staff=context.staff)
    chosen = command.place_id or (places[0][0] if places else 0)
    rows = []
    if chosen:
        rows = store.upcoming_slots(
            context.session,
            after=start,
            before=datetime.combine(monday + timedelta(days=7), time(), tzinfo=tz),
            place_ids=slots_in_view(context, chosen),
        )
    week = [monday + timedelta(days=n) for n in range(7)]
    days = [
        (d, [SlotView.of(s) for s in rows if s.starts_at.astimezone(tz).date() == d]) for d in week
    ]
    return SlotsOfWeek(places, chosen, monday, days, topic_keys(context.session))


def create_slot(context: Context, command: CreateSlot) -> SlotView:
    store.check_place_exists(context.session, command.place_id)
    require_place(context.staff, command.place_id, f"place {command.place_id}")
    starts_at = _in_zone(context, command.starts_at)
    slot = store.add_slot(
        context.session,
        place_id=command.place_id,
        topic=command.topic,
        title=command.title,
        language=command.language,
        starts_at=starts_at,
        ends_at=_in_zone(context, command.ends_at),
        capacity=command.capacity,
    )
    context.audit("slot.create", f"slot:{slot.id}", starts_at.isoformat())
    return SlotView.of(slot)


def _tell(context: Context, slot_id: int, kind: str) -> int:
    return notify_slot_changed(
        context.session, slot_id, kind, context.now, notices=notice_composer(context.settings)
    )


def _audience(context: Context, slot_id: int) -> dict[str, int]:
    """Who a move or cancellation tells, by channel (the same rule as the notices)."""
    return slot_change_audience(
        context.session, slot_id=slot_id, now=context.now, notices=notice_composer(context.settings)
    )


def change_slot(context: Context, command: ChangeSlot) -> SlotChanged:
    slot = slot_of_mine(context, command.slot_id)
    audience = _audience(context, command.slot_id)
    moved = store.reschedule_slot(
        context.session,
        slot=slot,
        starts_at=None if command.starts_at is None else _in_zone(context, command.starts_at),
        ends_at=None if command.ends_at is None else _in_zone(context, command.ends_at),
        capacity=command.capacity,
    )
    told = _tell(context, command.slot_id, "moved") if moved else 0
    context.audit(
        "slot.change",
        f"slot:{command.slot_id}",
        f"starts {slot.starts_at.isoformat()}, capacity {slot.capacity}, {told} told",
    )
    return SlotChanged(SlotView.of(slot), moved, told, audience if moved else dict(NOBODY))


def cancel_slot(context: Context, command: CancelSlot) -> SlotChanged:
    slot = slot_of_mine(context, command.slot_id)
    audience = _audience(context, command.slot_id)
    store.cancel_slot(context.session, slot=slot, now=context.now)
    told = _tell(context, command.slot_id, "cancelled")
    context.audit("slot.cancel", f"slot:{command.slot_id}", f"{told} people told")
    context.session.refresh(slot)
    return SlotChanged(SlotView.of(slot), False, told, audience)


def slot_change_impact(context: Context, command: SlotChangeImpact) -> SlotImpact:
    slot = slot_of_mine(context, command.slot_id)
    return SlotImpact(
        SlotView.of(slot),
        store.slot_attendees(context.session, slot_id=command.slot_id),
        _audience(context, command.slot_id),
    )


HANDLERS: dict[type[Any], Handler] = {
    ListSlots: list_slots,
    WeekOfSlots: week_of_slots,
    CreateSlot: create_slot,
    ChangeSlot: change_slot,
    CancelSlot: cancel_slot,
    SlotChangeImpact: slot_change_impact,
}
