"""Day and time words → a window of local dates and a part of the day.

"demain aprem", "jeudi", "la semaine prochaine", "le 12 février", "12/02": read relative to
today's local date, which the engine passes in (flows/ has no clock).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

__all__ = ["When", "explicit_date", "window"]

_DAY_MONTH = re.compile(r"\b([0-3]?\d)\s*[/.-]\s*([01]?\d)\b")
_DAY_WORD_MONTH = re.compile(r"\b([0-3]?\d)(?:er)?$")
_DAY_OF_MONTH = re.compile(r"\bdu ([0-3]?\d)(?:er)?\b")  # "le rdv du 6": this month or next


@dataclass(frozen=True)
class When:
    """Local dates first..last (inclusive, None = open) and "morning" / "afternoon" or None.
    `{"first": "2025-02-06", "last": "2025-02-06", "part": "afternoon"}`"""

    first: date | None = None
    last: date | None = None
    part: str | None = None

    def fits(self, moment: datetime, tz: tzinfo) -> bool:
        local = moment.astimezone(tz)
        day = local.date()
        if self.first is not None and day < self.first:
            return False
        if self.last is not None and day > self.last:
            return False
        if self.part == "morning":
            return local.hour < 12
        if self.part == "afternoon":
            return local.hour >= 12
        return True

    def to_json(self) -> list[str | None]:
        first = self.first.isoformat() if self.first else None
        last = self.last.isoformat() if self.last else None
        return [first, last, self.part]

    @classmethod
    def from_json(cls, value: object) -> When | None:
        if not isinstance(value, list) or len(value) != 3:
            return None
        try:
            first = date.fromisoformat(value[0]) if value[0] else None
            last = date.fromisoformat(value[1]) if value[1] else None
        except (TypeError, ValueError):
            return None
        part = value[2] if value[2] in ("morning", "afternoon") else None
        return cls(first, last, part)


def _next_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _day_window(meaning: str, today: date) -> tuple[date, date] | None:
    kind = meaning.removeprefix("day.")
    monday = today - timedelta(days=today.weekday())
    if kind == "today":
        return today, today
    if kind == "tomorrow":
        return today + timedelta(days=1), today + timedelta(days=1)
    if kind == "after_tomorrow":
        return today + timedelta(days=2), today + timedelta(days=2)
    if kind == "this_week":
        return today, monday + timedelta(days=6)
    if kind == "next_week":
        return monday + timedelta(days=7), monday + timedelta(days=13)
    if kind == "weekend":
        saturday = _next_weekday(today, 5)
        return saturday, saturday + timedelta(days=1)
    if kind.startswith("weekday."):
        day = _next_weekday(today, int(kind.split(".")[1]))
        day = day + timedelta(days=7) if day == today else day  # "jeudi" on a Thursday: next
        return day, day
    return None


def _upcoming(today: date, month: int, day: int) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def explicit_date(raw: str, words: list[str], months: dict[int, int], today: date) -> date | None:
    """'12/02', '12.2', or a day number followed by a month word ('12 fevrier')."""
    match = _DAY_MONTH.search(raw)
    if match:
        return _upcoming(today, int(match.group(2)), int(match.group(1)))
    for index, month in months.items():
        if index > 0:
            found = _DAY_WORD_MONTH.match(words[index - 1])
            if found:
                return _upcoming(today, month, int(found.group(1)))
    match = _DAY_OF_MONTH.search(" ".join(words))
    if match:
        day = int(match.group(1))
        month = today.month if day >= today.day else today.month % 12 + 1
        return _upcoming(today, month, day)
    return None


def window(days: list[str], parts: list[str], on: date | None, today: date) -> When | None:
    """The window the day words name (the first one wins), with the part of the day."""
    part = parts[0].removeprefix("part.") if parts else None
    if on is not None:
        return When(on, on, part)
    for meaning in days:
        found = _day_window(meaning, today)
        if found:
            return When(found[0], found[1], part)
    if part is not None:
        return When(None, None, part)
    return None
