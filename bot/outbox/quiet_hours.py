"""When the product may send: never in quiet hours, on Sundays or on French public holidays.

The users are mostly older people; a text at 21:00 or on Christmas morning is an intrusion.
Quiet hours come from `settings.quiet_hours` ("20:00-08:00", local time `settings.timezone`;
a window whose start is after its end wraps over midnight; equal ends mean no quiet hours).

Rules, applied by the dispatcher to every outbox row and by the reminder planner up front:

- A message due in quiet time waits for `next_allowed(due)`: the first allowed moment after it
  (08:00 the next open day), unless it is useless by then (its `not_after` has passed), in which
  case it is cancelled, never sent late.
- H-2 reminder: due two hours before the slot; if that is quiet, it is sent at the next allowed
  time when that is still at least 15 minutes before the start (slot 08:30, due 06:30 → sent at
  08:00); otherwise it is cancelled (slot 08:10; or 08:30 the day after a holiday when the
  next allowed time is later that morning… any case where 08:00 is too close or past).
- J-1 reminder: due at 10:00 the day before; if that day is closed (Sunday, holiday) it moves
  *back* to 10:00 on the last open day before (a Monday slot is reminded on Saturday), so it stays
  a "the day before" message; it is cancelled if it cannot go out before the slot's day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from config import Settings

__all__ = ["SendingCalendar", "is_closed_day", "is_quiet", "next_allowed", "previous_open_day"]

_MAX_DAYS = 31  # more closed days in a row than this means a misconfiguration


@lru_cache(maxsize=1)
def _french_holidays() -> holidays.HolidayBase:
    # Built lazily (not at import) and shared: the calendar expands year by year on lookup.
    return holidays.France()


def is_closed_day(day: date) -> bool:
    """Sunday or a French public holiday (1 May, 14 July, 25 December…)."""
    return day.weekday() == 6 or day in _french_holidays()


def _in_window(moment: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def is_quiet(moment: datetime, settings: Settings) -> bool:
    """True when nothing may be sent at `moment` (any timezone-aware datetime)."""
    local = moment.astimezone(settings.tz)
    start, end = settings.quiet_window
    return is_closed_day(local.date()) or _in_window(local.time(), start, end)


def next_allowed(moment: datetime, settings: Settings) -> datetime:
    """`moment` itself when sending is allowed then, else the first allowed moment after it."""
    tz = settings.tz
    start, end = settings.quiet_window
    local = moment.astimezone(tz)
    for _ in range(_MAX_DAYS * 2):
        if is_closed_day(local.date()):
            local = datetime.combine(local.date() + timedelta(days=1), time(0), tz)
        elif _in_window(local.time(), start, end):
            day = local.date()
            wraps_to_tomorrow = start > end and local.time() >= start
            local = datetime.combine(day + timedelta(days=1) if wraps_to_tomorrow else day, end, tz)
        else:
            return local.astimezone(moment.tzinfo)
    raise ValueError(f"no allowed sending time within {_MAX_DAYS} days of {moment}")


def previous_open_day(day: date) -> date:
    """`day` when it is open, else the last open day before it."""
    for _ in range(_MAX_DAYS):
        if not is_closed_day(day):
            return day
        day -= timedelta(days=1)
    raise ValueError(f"no open day within {_MAX_DAYS} days before {day}")


class SendingCalendar:
    """The sending calendar of `settings`, in the shape flows.outbound.schedule.Calendar expects."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def next_allowed(self, moment: datetime) -> datetime:
        return next_allowed(moment, self.settings)

    def previous_open_day(self, day: date) -> date:
        return previous_open_day(day)
