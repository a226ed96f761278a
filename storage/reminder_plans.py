"""Reminder planning: which reminders are due, to whom and when; `Planner.plan` runs each minute.

It is idempotent: each reminder has a dedupe key (`j1:booking:12`, `h2:booking:12`,
`expiry30:voucher-batch:PN-0001:2027-03-31`, `expiry7:…`, `noshow:booking:12`) and the outbox
keeps one row per key. Queries are set-based (one per kind, with an anti-join on the outbox) and
rows go in with one bulk insert, so 100,000 bookings take seconds.

Rules (see bot.quiet_hours for the sending calendar passed in as `calendar`):
- J-1 at `j1_at` (10:00) local the day before, moved back to the last open day; H-2 two hours
  before, or at the next allowed time if still 15 minutes before the start. A reminder whose
  time passed before the booking was made is skipped (the booking confirmation said it all).
- Voucher expiry and no-show follow-ups: storage.reminder_followups.
- Who never gets reminders, and cancelling queued ones: storage.reminder_queries.
- Channel and text: storage.reminder_texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from sqlalchemy import select
from sqlmodel import Session

from storage.directory import DEFAULT_HELP
from storage.models import Beneficiary, Booking, BookingStatus, Place, Slot
from storage.reminder_followups import expiry_rows, no_show_rows
from storage.reminder_queries import cancel_stale, not_in_outbox, outbox_key, reachable
from storage.reminder_texts import PERSON_COLUMNS, Person, Render, enqueue_rows, reminder_row

__all__ = ["Calendar", "PlanReport", "Planner"]

J1_AT = time(10, 0)
H2_BEFORE = timedelta(hours=2)
H2_LATEST = timedelta(minutes=15)  # closer to the start, a reminder is no use to someone on foot
HORIZON = timedelta(days=8)  # covers J-1 moved back over a Sunday and a holiday


class Calendar(Protocol):
    """When sending is allowed (bot.quiet_hours.SendingCalendar)."""

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
        report.j1 = enqueue_rows(
            session, map(self._j1, self._bookings(session, "j1:booking:")), now=self.now
        )
        report.h2 = enqueue_rows(
            session, map(self._h2, self._bookings(session, "h2:booking:")), now=self.now
        )
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

    def _bookings(self, session: Session, prefix: str) -> list[Any]:
        query = (
            select(
                Booking.id,
                Booking.created_at,
                Slot.starts_at,
                Place.name,
                Place.address,
                Place.commune,
                Place.phone,
                *PERSON_COLUMNS,
            )
            .join(Slot, Slot.id == Booking.slot_id)
            .join(Place, Place.id == Slot.place_id)  # type: ignore[arg-type]
            .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)  # type: ignore[arg-type]
            .where(
                Booking.status == BookingStatus.BOOKED.value,
                Slot.cancelled.is_(False),  # type: ignore[attr-defined]
                Slot.starts_at > self.now,
                Slot.starts_at <= self.now + self.horizon,  # type: ignore[operator]
                reachable(),
                not_in_outbox(outbox_key(prefix, Booking.id)),
            )
        )
        return list(session.execute(query).all())

    def _slot_params(self, row: Any) -> dict[str, Any]:
        return {
            "starts_at": row[2],
            "starts_time": row[2],
            "place": row[3],
            "address": row[4],
            "commune": row[5],
            "phone": row[6] or DEFAULT_HELP.phone,
        }

    def _j1(self, row: Any) -> dict[str, Any] | None:
        slot_day = row[2].astimezone(self.tz).date()
        due = self.local_at(
            self.calendar.previous_open_day(slot_day - timedelta(days=1)), self.j1_at
        )
        send_at = self.calendar.next_allowed(max(due, self.now))
        not_after = self.local_at(slot_day, time(0))
        if row[1] > due or send_at >= not_after:
            return None
        return self.row(
            Person(*row[7:]),
            "reminder.day_before",
            self._slot_params(row),
            f"j1:booking:{row[0]}",
            send_at,
            not_after,
        )

    def _h2(self, row: Any) -> dict[str, Any] | None:
        due = row[2] - H2_BEFORE
        send_at = self.calendar.next_allowed(max(due, self.now))
        not_after = row[2] - H2_LATEST
        if row[1] > due or send_at > not_after:
            return None
        return self.row(
            Person(*row[7:]),
            "reminder.two_hours",
            self._slot_params(row),
            f"h2:booking:{row[0]}",
            send_at,
            not_after,
        )
