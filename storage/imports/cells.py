"""Checking and converting one cell; a bad value raises RowProblem naming its column."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

from storage.imports.csv_reading import CsvRow, RowProblem
from storage.types import MAX_YEAR, MIN_YEAR, in_service_years

__all__ = ["day", "integer", "limited", "multi", "number", "when"]


def limited(value: str, column: str, max_length: int) -> str:
    if len(value) > max_length:
        raise RowProblem(f"{column}: longer than {max_length} characters")
    return value


def multi(text: str) -> str | None:
    """`"a | b||c"` → `"a|b|c"`: multi-valued cells are stored joined, cleaned."""
    return "|".join(part.strip() for part in text.split("|") if part.strip()) or None


def number(text: str, column: str, low: float, high: float) -> float:
    try:
        value = float(text.replace(",", "."))  # French spreadsheets write 45,18
    except ValueError:
        raise RowProblem(f"{column}: not a number ({text!r})") from None
    if not low <= value <= high:  # also refuses nan
        raise RowProblem(f"{column}: {text} is out of range [{low:g}, {high:g}]")
    return value


def integer(text: str, column: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise RowProblem(f"{column}: not a whole number ({text!r})") from None
    if not low <= value <= high:
        raise RowProblem(f"{column}: {value} is not between {low} and {high}")
    return value


def when(row: CsvRow, column: str, tz: tzinfo) -> datetime:
    """An ISO 8601 date and time; without an offset it is local time in `tz`."""
    text = row.required(column)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise RowProblem(f"{column}: {text!r} is not an ISO 8601 date and time") from None
    if not in_service_years(value):
        raise RowProblem(f"{column}: {text!r} is not between {MIN_YEAR} and {MAX_YEAR}")
    return value if value.tzinfo else value.replace(tzinfo=tz)


def day(text: str, column: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise RowProblem(f"{column}: {text!r} is not a YYYY-MM-DD date") from None
