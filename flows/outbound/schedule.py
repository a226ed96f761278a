"""When outbound messages go: pure functions of the slot's start, the clock and the calendar.

Rules (the sending calendar — quiet hours, Sundays, French holidays — is bot.outbox.quiet_hours'
`SendingCalendar`, passed in as `Clock.calendar`):
- J-1 at `j1_at` (10:00) local the day before, moved back to the last open day; not sent once
  the slot's day has begun.
- H-2 two hours before, or at the next allowed time if that is still 15 minutes before the
  start.
- A slot reminder whose time passed before the booking was made is skipped (the booking
  confirmation said it all): `Window.booked_by`.
- Vouchers: 30 days before they expire and 7 days before, at `j1_at`; the 30-day notice is
  useless once the 7-day one takes over, and that one once the vouchers expired.
- The day after a no-show, at `j1_at`, an offer to book again, valid for two days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol

__all__ = [
    "EXPIRY_NOTICE_DAYS",
    "HORIZON",
    "J1_AT",
    "Calendar",
    "Clock",
    "Window",
    "day_before",
    "expiry_kind",
    "expiry_window",
    "no_show_window",
    "two_hours_before",
]

J1_AT = time(10, 0)
H2_BEFORE = timedelta(hours=2)
H2_LATEST = timedelta(minutes=15)  # closer to the start, a reminder is no use to someone on foot
HORIZON = timedelta(days=8)  # covers J-1 moved back over a Sunday and a holiday
EXPIRY_NOTICE_DAYS = 30
EXPIRY_LAST_NOTICE_DAYS = 7
NO_SHOW_VALID = timedelta(days=2)


class Calendar(Protocol):
    """When sending is allowed (bot.outbox.quiet_hours.SendingCalendar)."""

    def next_allowed(self, moment: datetime) -> datetime: ...

    def previous_open_day(self, day: date) -> date: ...


@dataclass(frozen=True)
class Clock:
    """The planning moment, the local zone, the sending calendar, the reminders' hour."""

    now: datetime
    tz: tzinfo
    calendar: Calendar
    j1_at: time = J1_AT

    @property
    def today(self) -> date:
        """The local date at `now`."""
        return self.now.astimezone(self.tz).date()

    def local_at(self, day: date, at: time) -> datetime:
        """`day` at `at`, local time."""
        return datetime.combine(day, at, self.tz)

    def send_at(self, due: datetime) -> datetime:
        """The first allowed moment at or after `due`, never before now."""
        return self.calendar.next_allowed(max(due, self.now))


@dataclass(frozen=True)
class Window:
    """When a message goes: due at `due` (bookings made after it get no slot reminder), sent
    at `send_at`, useless after `not_after`."""

    due: datetime
    send_at: datetime
    not_after: datetime


def day_before(starts_at: datetime, clock: Clock) -> Window | None:
    """The day-before reminder of a slot, None when it is too late for one."""
    slot_day = starts_at.astimezone(clock.tz).date()
    open_day = clock.calendar.previous_open_day(slot_day - timedelta(days=1))
    due = clock.local_at(open_day, clock.j1_at)
    send_at = clock.send_at(due)
    not_after = clock.local_at(slot_day, time(0))
    return None if send_at >= not_after else Window(due, send_at, not_after)


def two_hours_before(starts_at: datetime, clock: Clock) -> Window | None:
    """The two-hours reminder of a slot, None when it is too late for one."""
    due = starts_at - H2_BEFORE
    send_at = clock.send_at(due)
    not_after = starts_at - H2_LATEST
    return None if send_at > not_after else Window(due, send_at, not_after)


def expiry_kind(expires_on: date, today: date) -> str:
    """ "expiry7" within the last week before `expires_on`, else "expiry30"."""
    last_week = expires_on <= today + timedelta(days=EXPIRY_LAST_NOTICE_DAYS)
    return "expiry7" if last_week else "expiry30"


def expiry_window(kind: str, expires_on: date, clock: Clock) -> Window | None:
    """The voucher expiry notice of `kind`, None when it would come too late."""
    if kind == "expiry7":
        last_day = expires_on + timedelta(days=1)
    else:
        last_day = expires_on - timedelta(days=EXPIRY_LAST_NOTICE_DAYS)
    not_after = clock.local_at(last_day, time(0))
    due = clock.local_at(clock.today, clock.j1_at)
    send_at = clock.send_at(due)
    return None if send_at >= not_after else Window(due, send_at, not_after)


def no_show_window(starts_at: datetime, clock: Clock) -> Window | None:
    """The offer to book again after a no-show, None once its two days are over."""
    next_day = starts_at.astimezone(clock.tz).date() + timedelta(days=1)
    due = clock.local_at(next_day, clock.j1_at)
    send_at = clock.send_at(due)
    not_after = due + NO_SHOW_VALID
    return None if send_at > not_after else Window(due, send_at, not_after)
