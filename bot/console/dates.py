"""Days and times typed and shown in the console's language, never in the browser's.

A native date field shows and takes dates the way the browser's own locale does (mm/dd/yyyy
in an English browser, on a French console), so the console asks for days in a plain text
field whose label says the expected form (`day_field` in `templates/_fields.html`) and reads
them here. Both languages write days as dd/mm/yyyy, as the console shows them everywhere;
ISO 2027-06-30, what a date field or a script sends, is accepted too. Times likewise (a native
time field shows 02:00 PM in an English browser): a text field (`time_field`) takes 24-hour
14:30, also written 14h30, 14h or 1430.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Any

from storage.types import MAX_YEAR, MIN_YEAR

__all__ = [
    "DAY_FORMAT",
    "DAY_PATTERN",
    "TIME_FORMAT",
    "TIME_PATTERN",
    "asked_day",
    "day_text",
    "pages_around",
    "typed_day",
    "typed_time",
]

DAY_FORMAT = "%d/%m/%Y"
DAY_PATTERN = r"\s*\d{1,2}[\/.\- ]\d{1,2}[\/.\- ]\d{4}\s*|\s*\d{4}-\d{2}-\d{2}\s*"
"""dd/mm/yyyy (also with dots, dashes or spaces) or ISO: the HTML field's `pattern`, written
for the browsers' `v` flag (a `/` or `-` in a class is escaped)."""
TIME_FORMAT = "%H:%M"
TIME_PATTERN = r"\s*\d{1,2}\s*[:hH.]\s*\d{2}\s*|\s*\d{1,2}\s*[hH]\s*|\s*\d{3,4}\s*"
"""hh:mm, hh.mm, 14h30, 14h or 1430 (what a phone's number pad can type): the HTML `pattern`."""
_TIME = re.compile(r"\s*(\d{1,2})\s*(?:[:hH.]\s*(\d{2})|[hH])\s*|\s*(\d{1,2})(\d{2})\s*")
_DAY_FIRST = re.compile(r"\s*(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})\s*")
_ISO = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})\s*")


def typed_day(text: str) -> date | None:
    """The day typed, or None when it is not a day between 2000 and 2100."""
    if day_first := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(part) for part in day_first.groups())
    elif iso := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in iso.groups())
    else:
        return None
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    return found if MIN_YEAR <= found.year <= MAX_YEAR else None


def typed_time(text: str) -> time | None:
    """The time of day typed (24 hours), or None when it is not one."""
    found = _TIME.fullmatch(text)
    if found is None:
        return None
    hours, minutes, packed_hours, packed_minutes = found.groups()
    try:
        if packed_hours is not None:
            return time(int(packed_hours), int(packed_minutes))
        return time(int(hours), int(minutes or 0))
    except ValueError:
        return None


def day_text(day: date | None) -> str:
    """How the console shows a day, in either language: 30/06/2027."""
    return day.strftime(DAY_FORMAT) if day else ""


def asked_day(text: str) -> date | None:
    """The day a page is asked for in its address (`?day=2026-12-03`, ISO, what the console's
    own links carry); None (the page's default) when there is none or it cannot be read."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def pages_around(day: date, days: int) -> dict[str, Any]:
    """The first days of the previous and the following page, for the ← and → links."""
    step = timedelta(days=days)
    return {"previous": day - step, "following": day + step}
