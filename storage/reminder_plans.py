"""Reminder planning: which reminders are due, to whom and when; `Planner.plan` runs each minute.

It is idempotent: each reminder has a dedupe key (`j1:booking:12`, `h2:booking:12`,
`expiry30:voucher-batch:PN-0001:2027-03-31`, `expiry7:…`, `noshow:booking:12`) and the outbox
keeps one row per key. Queries are set-based (one per kind, with an anti-join on the outbox) and
rows go in with one bulk insert, so 100,000 bookings take seconds.

Rules (see bot.outbox.quiet_hours for the sending calendar passed in as `calendar`):
- J-1 at `j1_at` (10:00) local the day before, moved back to the last open day; H-2 two hours
  before, or at the next allowed time if still 15 minutes before the start. A reminder whose
  time passed before the booking was made is skipped (the booking confirmation said it all).
- Voucher expiry and no-show follow-ups: storage.reminder_followups.
- Who never gets reminders, and cancelling queued ones: storage.reminder_queries.
- Channel and text: storage.reminder_texts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from sqlmodel import Session

from storage.directory import DEFAULT_HELP
from storage.reminder_followups import expiry_rows, no_show_rows
from storage.reminder_queries import cancel_stale
from storage.reminder_slots import SlotPlan, SlotText, booked_slots, queue_slot_reminders
from storage.reminder_texts import Person, Render, enqueue_rows, reminder_row

Schedule = Callable[[datetime], "tuple[datetime, datetime, datetime] | None"]
"""When a slot's reminder goes: (booked by, send at, not after), or None when it is too late."""

__all__ = ["Calendar", "PlanReport", "Planner"]

J1_AT = time(10, 0)
H2_BEFORE = timedelta(hours=2)
H2_LATEST = timedelta(minutes=15)  # closer to the start, a reminder is no use to someone on foot
HORIZON = timedelta(days=8)  # covers J-1 moved back over a Sunday and a holiday


class Calendar(Protocol):
    """When sending is allowed (bot.outbox.quiet_hours.SendingCalendar)."""

    def next_allowed(self, moment: datetime) -> datetime: ...

    def previous_open_day(self, day: date) -> date: ...


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
    voice_calls: bool = False  # PASSNUM_VOICE_REMINDERS: calls for people who chose them

    def plan(self, session: Session) -> PlanReport:
        report = PlanReport(cancelled=cancel_stale(session, now=self.now))
        report.j1 = self._slot_reminders(session, "j1:booking:", "reminder.day_before", self._j1)
        report.h2 = self._slot_reminders(session, "h2:booking:", "reminder.two_hours", self._h2)
        report.expiry = enqueue_rows(session, expiry_rows(self, session), now=self.now)
        report.noshow = enqueue_rows(session, no_show_rows(self, session), now=self.now)
        return report

    def local_at(self, day: date, at: time) -> datetime:
        """`day` at `at`, local time."""
        return datetime.combine(day, at, self.tz)

    def row(
        self,
        person: Person,
        key: str,
        params: dict[str, Any],
        dedupe_key: str,
        send_at: datetime,
        not_after: datetime | None,
    ) -> dict[str, Any] | None:
        """The outbox row of one reminder (storage.reminder_texts.reminder_row), or None."""
        return reminder_row(
            person,
            key=key,
            params=params,
            dedupe_key=dedupe_key,
            send_at=send_at,
            not_after=not_after,
            render=self.render,
            two_way=self.two_way,
            voice=self.voice_calls,
        )

    def _slot_reminders(self, session: Session, prefix: str, key: str, schedule: Schedule) -> int:
        """Queue one kind of slot reminder; times and texts are computed once per slot."""
        until = self.now + self.horizon
        times: dict[int, tuple[datetime, datetime, datetime] | None] = {}
        texts = []
        voice = self.voice_calls
        for slot in booked_slots(session, prefix=prefix, now=self.now, until=until, voice=voice):
            if slot.slot_id not in times:
                times[slot.slot_id] = schedule(slot.starts_at)
            when = times[slot.slot_id]
            one_way = slot.channel == "sms" and not self.two_way
            rendered = when and self.render(
                slot.channel, slot.language, f"{key}_one_way" if one_way else key, _params(slot)
            )
            if when and rendered:
                texts.append(SlotText(slot.slot_id, slot.channel, slot.language, *rendered, *when))
        return queue_slot_reminders(
            session, prefix=prefix, texts=texts, now=self.now, until=until, voice=voice
        )

    def _j1(self, starts_at: datetime) -> tuple[datetime, datetime, datetime] | None:
        """(booked by, send at, not after) of the day-before reminder, None when too late."""
        slot_day = starts_at.astimezone(self.tz).date()
        due = self.local_at(
            self.calendar.previous_open_day(slot_day - timedelta(days=1)), self.j1_at
        )
        send_at = self.calendar.next_allowed(max(due, self.now))
        not_after = self.local_at(slot_day, time(0))
        return None if send_at >= not_after else (due, send_at, not_after)

    def _h2(self, starts_at: datetime) -> tuple[datetime, datetime, datetime] | None:
        """(booked by, send at, not after) of the two-hours reminder, None when too late."""
        due = starts_at - H2_BEFORE
        send_at = self.calendar.next_allowed(max(due, self.now))
        not_after = starts_at - H2_LATEST
        return None if send_at > not_after else (due, send_at, not_after)


def _params(slot: SlotPlan) -> dict[str, Any]:
    return {
        "starts_at": slot.starts_at,
        "starts_time": slot.starts_at,
        "place": slot.place,
        "address": slot.address,
        "commune": slot.commune,
        "phone": slot.phone or DEFAULT_HELP.phone,
    }
