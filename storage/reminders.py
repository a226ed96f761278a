"""Reminder planning: which reminders are due, to whom, on which channel, with which text.

Run every minute; it is idempotent: each reminder has a dedupe key (`j1:booking:12`,
`h2:booking:12`, `expiry30:voucher-batch:PN-0001:2027-03-31`, `expiry7:…`, `noshow:booking:12`)
and the outbox keeps one row per key. Queries are set-based (one per kind, with an anti-join on
the outbox) and rows go in with one bulk insert, so 100,000 bookings take seconds.

Rules (see bot.quiet_hours for the sending calendar passed in as `calendar`):
- J-1 at `j1_at` (10:00) local the day before, moved back to the last open day; H-2 two hours
  before, or at the next allowed time if still 15 minutes before the start. A reminder whose
  time passed before the booking was made is skipped (the booking confirmation said it all).
- Nothing for cancelled bookings or slots, people who turned reminders off, opted out or were
  erased; queued reminders of those are cancelled at each pass (and by the dispatcher).
- Vouchers: one message per booklet and expiry date, 30 days before and 7 days before.
- The day after a no-show, an offer to book again (if a voucher is left).
- Channel: `preferred_channel` if set, else `last_channel`, else whichever address exists.
- SMS texts go through the SMS renderer (GSM-7, one segment); with a one-way SMS sender, the
  `*_one_way` catalog texts say whom to call instead of asking for a reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, delete, exists, func, literal, or_, select, update
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
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S
from storage.outbox import enqueue_many

__all__ = [
    "REMINDER_PREFIXES",
    "Calendar",
    "Person",
    "Render",
    "catalog_renderer",
    "choose_address",
    "is_reminder",
    "reminder_row",
    "PlanReport",
    "Planner",
    "cancel_stale",
    "expire_vouchers",
    "notify_slot_changed",
]

log = logging.getLogger(__name__)

REMINDER_PREFIXES = ("j1:", "h2:", "expiry30:", "expiry7:", "noshow:")
Render = Callable[[str, str, str, Mapping[str, Any]], "tuple[str, int] | None"]
"""(channel, language, catalog key, params) → (text, SMS segments), None if the key is missing."""


class Calendar(Protocol):
    """When sending is allowed (bot.quiet_hours.SendingCalendar)."""

    def next_allowed(self, moment: datetime) -> datetime: ...

    def previous_open_day(self, day: date) -> date: ...


def is_reminder(dedupe_key: str | None) -> bool:
    """Reminders stop when a person turns reminders off; other messages do not."""
    return bool(dedupe_key) and dedupe_key.startswith(REMINDER_PREFIXES)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Person:
    """Who a reminder goes to. `{"id": 3, "first_name": "Aïcha", "language": "fr",
    "phone": "+33612345678", "telegram_chat_id": null, "preferred_channel": null,
    "last_channel": "sms", "telegram_unreachable": false}`"""

    id: int
    first_name: str
    language: str
    phone: str | None
    telegram_chat_id: int | None
    preferred_channel: str | None
    last_channel: str | None
    telegram_unreachable: bool


PERSON_COLUMNS = (Beneficiary.id, Beneficiary.first_name, Beneficiary.language, Beneficiary.phone,
                  Beneficiary.telegram_chat_id, Beneficiary.preferred_channel,
                  Beneficiary.last_channel, Beneficiary.telegram_unreachable)


def reachable() -> Any:
    """SQL condition: the beneficiary wants reminders and may be written to."""
    return (Beneficiary.reminders_enabled.is_(True) & Beneficiary.opted_out.is_(False)  # type: ignore[attr-defined]
            & Beneficiary.erased_at.is_(None))  # type: ignore[union-attr]


def choose_address(person: Person) -> tuple[str, str] | None:
    """(channel, address): preferred channel, else the last one used, else any address."""
    addresses = {"sms": person.phone}
    if person.telegram_chat_id is not None and not person.telegram_unreachable:
        addresses["telegram"] = f"tg:{person.telegram_chat_id}"
    for channel in (person.preferred_channel, person.last_channel, "sms", "telegram"):
        if channel in addresses and addresses[channel]:
            return channel, addresses[channel]  # type: ignore[return-value]
    return None


def reminder_row(person: Person, *, key: str, params: Mapping[str, Any], dedupe_key: str,
                 send_at: datetime, not_after: datetime | None, render: Render,
                 two_way: bool) -> dict[str, Any] | None:
    """The outbox row (keywords of storage.outbox.enqueue) for one reminder, or None."""
    target = choose_address(person)
    if target is None:
        return None
    channel, address = target
    one_way = channel == "sms" and not two_way
    rendered = render(channel, person.language, f"{key}_one_way" if one_way else key, params)
    if rendered is None:
        return None
    body, segments = rendered
    return {"channel": channel, "address": address, "body": body, "segments": segments,
            "beneficiary_id": person.id, "dedupe_key": dedupe_key, "not_after": not_after,
            "send_after": send_at}


def catalog_renderer(tz: tzinfo, catalogs: Mapping[str, Mapping[str, str]] | None = None) -> Render:
    """Render with the message catalogs: SMS transliterated to GSM-7, Telegram as written."""
    from config.catalogs import load_catalogs
    from flows.gsm7 import sms_segments
    from flows.render import render_sms, render_telegram
    from flows.types import Reply

    books = load_catalogs() if catalogs is None else catalogs
    missing: set[str] = set()

    # Everyone booked on a slot gets the same text: cache it (texts hold no personal data).
    @lru_cache(maxsize=4096)
    def cached(channel: str, language: str, key: str,
               items: tuple[tuple[str, Any], ...]) -> tuple[str, int]:
        reply = Reply(key, dict(items))
        if channel == "sms":
            text = render_sms([reply], books, language, tz)[0]
            return text, sms_segments(text)
        return render_telegram([reply], books, language, tz)[0].text, 1

    def render(channel: str, language: str, key: str,
               params: Mapping[str, Any]) -> tuple[str, int] | None:
        if not any(key in books.get(lang, {}) for lang in (language, "fr")):
            if key not in missing:  # a missing text must not go out as "reminder.xyz"
                missing.add(key)
                log.error("catalog text %r is missing: those messages are not queued", key)
            return None
        return cached(channel, language, key, tuple(sorted(params.items())))

    return render


def outbox_key(prefix: str, column: Any) -> Any:
    """SQL for "<prefix><id>", to anti-join candidates with the outbox's dedupe keys."""
    return literal(prefix) + cast(column, String)


def not_in_outbox(key: Any) -> Any:
    return ~exists().where(Msg.dedupe_key == key)


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    wanted, found = sorted(set(keys)), set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        found |= set(session.scalars(select(Msg.dedupe_key).where(Msg.dedupe_key.in_(chunk))))  # type: ignore[union-attr]
    return found  # type: ignore[return-value]


def local_at(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tz)


def cancel_stale(session: Session, *, now: datetime) -> int:
    """Cancel queued reminders nobody should get any more; returns how many."""
    dead = (select(Booking.id).join(Slot, Slot.id == Booking.slot_id)  # type: ignore[arg-type]
            .where((Booking.status != BookingStatus.BOOKED.value) | Slot.cancelled.is_(True),  # type: ignore[attr-defined]
                   Slot.starts_at > now - timedelta(days=1)))  # type: ignore[operator]
    sub = dead.subquery()
    stale_keys = select(outbox_key("j1:booking:", sub.c.id)).union_all(
        select(outbox_key("h2:booking:", sub.c.id)))
    n = _cancel(session, now, "booking cancelled", Msg.dedupe_key.in_(stale_keys))  # type: ignore[union-attr]
    gone = select(Beneficiary.id).where(Beneficiary.opted_out.is_(True)  # type: ignore[attr-defined]
                                        | Beneficiary.erased_at.is_not(None))  # type: ignore[union-attr]
    n += _cancel(session, now, "opted out", Msg.beneficiary_id.in_(gone))  # type: ignore[union-attr]
    quiet = select(Beneficiary.id).where(Beneficiary.reminders_enabled.is_(False))  # type: ignore[attr-defined]
    is_rem = or_(*(Msg.dedupe_key.startswith(p) for p in REMINDER_PREFIXES))  # type: ignore[union-attr]
    return n + _cancel(session, now, "reminders off", Msg.beneficiary_id.in_(quiet) & is_rem)  # type: ignore[union-attr]


def _cancel(session: Session, now: datetime, reason: str, condition: Any) -> int:
    result = session.execute(update(Msg).where(Msg.status == S.QUEUED.value, condition)
                             .values(status=S.CANCELLED.value, error=reason, updated_at=now))
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


def enqueue_rows(session: Session, rows: Iterable[dict[str, Any] | None], *, now: datetime) -> int:
    return enqueue_many(session, [row for row in rows if row is not None], now=now)


def expire_vouchers(session: Session, *, today: date, now: datetime) -> int:
    """Available vouchers past their last valid day become expired."""
    result = session.execute(update(Voucher).where(Voucher.status == VoucherStatus.AVAILABLE.value,
                                                   Voucher.expires_on < today)  # type: ignore[operator]
                             .values(status=VoucherStatus.EXPIRED.value, updated_at=now))
    return result.rowcount  # type: ignore[attr-defined, no-any-return]

J1_AT = time(10, 0)
H2_BEFORE = timedelta(hours=2)
H2_LATEST = timedelta(minutes=15)  # closer to the start, a reminder is no use to someone on foot
HORIZON = timedelta(days=8)  # covers J-1 moved back over a Sunday and a holiday
NO_SHOW_VALID = timedelta(days=2)


@dataclass
class PlanReport:
    j1: int = 0
    h2: int = 0
    expiry: int = 0
    noshow: int = 0
    cancelled: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in vars(self).items())


@dataclass(frozen=True)
class Planner:
    """Plans every kind of reminder at `now`; `plan(session)` is the one call per minute."""

    now: datetime
    tz: tzinfo
    two_way: bool
    calendar: Calendar
    render: Render
    j1_at: time = J1_AT
    horizon: timedelta = HORIZON

    def plan(self, session: Session) -> PlanReport:
        report = PlanReport(cancelled=cancel_stale(session, now=self.now))
        report.j1 = enqueue_rows(session, map(self._j1, self._bookings(session, "j1:booking:")),
                                 now=self.now)
        report.h2 = enqueue_rows(session, map(self._h2, self._bookings(session, "h2:booking:")),
                                 now=self.now)
        report.expiry = enqueue_rows(session, self._expiries(session), now=self.now)
        report.noshow = enqueue_rows(session, map(self._noshow, self._no_shows(session)),
                                     now=self.now)
        return report

    def _bookings(self, session: Session, prefix: str) -> list[Any]:
        query = (select(Booking.id, Booking.created_at, Slot.starts_at, Place.name, Place.address,
                        Place.commune, Place.phone, *PERSON_COLUMNS)
                 .join(Slot, Slot.id == Booking.slot_id).join(Place, Place.id == Slot.place_id)  # type: ignore[arg-type]
                 .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)  # type: ignore[arg-type]
                 .where(Booking.status == BookingStatus.BOOKED.value, Slot.cancelled.is_(False),  # type: ignore[attr-defined]
                        Slot.starts_at > self.now, Slot.starts_at <= self.now + self.horizon,  # type: ignore[operator]
                        reachable(), not_in_outbox(outbox_key(prefix, Booking.id))))
        return list(session.execute(query).all())

    def _row(self, person: Person, key: str, params: dict[str, Any], dedupe_key: str,
             send_at: datetime, not_after: datetime | None) -> dict[str, Any] | None:
        return reminder_row(person, key=key, params=params, dedupe_key=dedupe_key,
                            send_at=send_at, not_after=not_after, render=self.render,
                            two_way=self.two_way)

    def _slot_params(self, row: Any) -> dict[str, Any]:
        return {"starts_at": row[2], "starts_time": row[2], "place": row[3], "address": row[4],
                "commune": row[5], "phone": row[6] or DEFAULT_HELP.phone}

    def _j1(self, row: Any) -> dict[str, Any] | None:
        slot_day = row[2].astimezone(self.tz).date()
        due = local_at(self.calendar.previous_open_day(slot_day - timedelta(days=1)),
                       self.j1_at, self.tz)
        send_at = self.calendar.next_allowed(max(due, self.now))
        not_after = local_at(slot_day, time(0), self.tz)
        if row[1] > due or send_at >= not_after:
            return None
        return self._row(Person(*row[7:]), "reminder.day_before", self._slot_params(row),
                         f"j1:booking:{row[0]}", send_at, not_after)

    def _h2(self, row: Any) -> dict[str, Any] | None:
        due = row[2] - H2_BEFORE
        send_at = self.calendar.next_allowed(max(due, self.now))
        not_after = row[2] - H2_LATEST
        if row[1] > due or send_at > not_after:
            return None
        return self._row(Person(*row[7:]), "reminder.two_hours", self._slot_params(row),
                         f"h2:booking:{row[0]}", send_at, not_after)

    def _expiries(self, session: Session) -> list[dict[str, Any] | None]:
        today = self.now.astimezone(self.tz).date()
        query = (select(Booklet.number, Voucher.expires_on, func.count(Voucher.id), *PERSON_COLUMNS)
                 .join(Booklet, Booklet.id == Voucher.booklet_id)  # type: ignore[arg-type]
                 .join(Beneficiary, Beneficiary.id == Booklet.beneficiary_id)  # type: ignore[arg-type]
                 .where(Voucher.status == VoucherStatus.AVAILABLE.value, reachable(),
                        Voucher.expires_on.between(today, today + timedelta(days=30)))  # type: ignore[attr-defined]
                 .group_by(Booklet.number, Voucher.expires_on, *PERSON_COLUMNS))
        rows = {self._expiry_key(row, today): row for row in session.execute(query).all()}
        done = existing_keys(session, rows)
        return [self._expiry(key, row, today) for key, row in rows.items() if key not in done]

    @staticmethod
    def _expiry_key(row: Any, today: date) -> str:
        kind = "expiry7" if row[1] <= today + timedelta(days=7) else "expiry30"
        return f"{kind}:voucher-batch:{row[0]}:{row[1].isoformat()}"

    def _expiry(self, key: str, row: Any, today: date) -> dict[str, Any] | None:
        # The 30-day notice is useless once the 7-day one takes over; that one, once expired.
        seven = key.startswith("expiry7")
        last_day = row[1] + timedelta(days=1) if seven else row[1] - timedelta(days=7)
        not_after = local_at(last_day, time(0), self.tz)
        send_at = self.calendar.next_allowed(max(local_at(today, self.j1_at, self.tz), self.now))
        if send_at >= not_after:
            return None
        params = {"expires_on": row[1], "available": row[2], "phone": DEFAULT_HELP.phone}
        return self._row(Person(*row[3:]), "reminder.expiry", params, key, send_at, not_after)

    def _no_shows(self, session: Session) -> list[Any]:
        has_voucher = (exists().where(Voucher.booklet_id == Booklet.id,
                                      Voucher.status == VoucherStatus.AVAILABLE.value)
                       .where(Booklet.beneficiary_id == Beneficiary.id))
        query = (select(Booking.id, Slot.starts_at, Place.phone, *PERSON_COLUMNS)
                 .join(Slot, Slot.id == Booking.slot_id).join(Place, Place.id == Slot.place_id)  # type: ignore[arg-type]
                 .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)  # type: ignore[arg-type]
                 .where(Booking.status == BookingStatus.NO_SHOW.value, reachable(), has_voucher,
                        Slot.starts_at.between(self.now - timedelta(days=3), self.now),  # type: ignore[attr-defined]
                        not_in_outbox(outbox_key("noshow:booking:", Booking.id))))
        return list(session.execute(query).all())

    def _noshow(self, row: Any) -> dict[str, Any] | None:
        next_day = row[1].astimezone(self.tz).date() + timedelta(days=1)
        due = local_at(next_day, self.j1_at, self.tz)
        send_at = self.calendar.next_allowed(max(due, self.now))
        if send_at > due + NO_SHOW_VALID:
            return None
        params = {"starts_at": row[1], "phone": row[2] or DEFAULT_HELP.phone}
        return self._row(Person(*row[3:]), "reminder.missed", params, f"noshow:booking:{row[0]}",
                         send_at, due + NO_SHOW_VALID)


SLOT_CHANGE_KEYS = {"cancelled": "reminder.slot_cancelled", "moved": "reminder.slot_moved"}
CANCELLED_WITH_SLOT = timedelta(minutes=10)


def notify_slot_changed(session: Session, slot_id: int, kind: str, now: datetime, *,
                        tz: tzinfo | None = None, two_way: bool = True,
                        render: Render | None = None) -> int:
    """Queue a message to everyone booked on a slot that was `moved` or `cancelled` (staff
    tools call it in their transaction, after updating the slot). A cancellation also reaches
    bookings cancelled with the slot in the last 10 minutes. Sent even with reminders off (it
    is about their booking), never to opted-out people; quiet hours apply at sending.
    Queued J-1/H-2 reminders of the slot are cancelled, or deleted when it moved so the
    planner queues them again for the new time. Returns how many messages were queued."""
    slot = session.get(Slot, slot_id)
    if slot is None or kind not in SLOT_CHANGE_KEYS:
        raise ValueError(f"no slot {slot_id} or unknown change {kind!r}")
    place = session.get(Place, slot.place_id)
    zone = tz or ZoneInfo("Europe/Paris")
    render = render or catalog_renderer(zone)
    rows = session.execute(_slot_bookings(slot_id, kind, now)).all()
    params = {"starts_at": slot.starts_at, "starts_time": slot.starts_at,
              "place": place.name if place else "", "address": place.address if place else "",
              "commune": place.commune if place else "",
              "phone": (place.phone if place else None) or DEFAULT_HELP.phone}
    stamp = f"{slot.starts_at:%Y%m%dT%H%M}"
    queued = enqueue_rows(session, (
        reminder_row(Person(*row[1:]), key=SLOT_CHANGE_KEYS[kind], params=params,
                     dedupe_key=f"slot-{kind}:booking:{row[0]}:{stamp}", send_at=now,
                     not_after=slot.starts_at, render=render, two_way=two_way)
        for row in rows), now=now)
    _drop_slot_reminders(session, [row[0] for row in rows], kind, now)
    return queued


def _slot_bookings(slot_id: int, kind: str, now: datetime) -> Any:
    live = Booking.status == BookingStatus.BOOKED.value
    if kind == "cancelled":
        live = live | ((Booking.status == BookingStatus.CANCELLED.value)
                       & (Booking.updated_at >= now - CANCELLED_WITH_SLOT))  # type: ignore[operator]
    return (select(Booking.id, *PERSON_COLUMNS)
            .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)  # type: ignore[arg-type]
            .where(Booking.slot_id == slot_id, live, Beneficiary.opted_out.is_(False),  # type: ignore[attr-defined]
                   Beneficiary.erased_at.is_(None)))  # type: ignore[union-attr]


def _drop_slot_reminders(session: Session, booking_ids: list[int], kind: str,
                         now: datetime) -> None:
    keys = [f"{p}:booking:{b}" for b in booking_ids for p in ("j1", "h2")]
    for start in range(0, len(keys), 500):
        pending = (Msg.dedupe_key.in_(keys[start:start + 500])) & (Msg.status == S.QUEUED.value)  # type: ignore[union-attr]
        if kind == "moved":
            session.execute(delete(Msg).where(pending))
        else:
            _cancel(session, now, "slot cancelled", pending)
