"""Days typed and shown in the console's language, never in the browser's.

A native date field shows and takes dates the way the browser's own locale does (mm/dd/yyyy
in an English browser, on a French console), so the console asks for days in a plain text
field whose label says the expected form (`day_field` in `templates/_fields.html`) and reads
them here. Both languages write days as dd/mm/yyyy, as the console shows them everywhere;
ISO 2027-06-30, what a date field or a script sends, is accepted too.
"""

from __future__ import annotations

import re
from datetime import date

from storage.types import MAX_YEAR, MIN_YEAR

__all__ = ["DAY_FORMAT", "DAY_PATTERN", "day_text", "typed_day"]

DAY_FORMAT = "%d/%m/%Y"
DAY_PATTERN = r"\s*\d{1,2}[\/.\- ]\d{1,2}[\/.\- ]\d{4}\s*|\s*\d{4}-\d{2}-\d{2}\s*"
"""dd/mm/yyyy (also with dots, dashes or spaces) or ISO: the HTML field's `pattern`, written
for the browsers' `v` flag (a `/` or `-` in a class is escaped)."""
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


def day_text(day: date | None) -> str:
    """How the console shows a day, in either language: 30/06/2027."""
    return day.strftime(DAY_FORMAT) if day else ""
