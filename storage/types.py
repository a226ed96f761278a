"""Column types: datetimes stored in UTC and always read back timezone-aware."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "UTCDateTime",
    "in_service_years",
    "read_utc",
    "sqlite_time",
    "utc",
]


MIN_YEAR, MAX_YEAR = 2000, 2100


def in_service_years(moment: datetime) -> bool:
    """Slots, broadcasts and bookings happen between 2000 and 2100: a year 1 or 9999 is a typo,
    and moving it to UTC would overflow (a 500 instead of a clear refusal)."""
    return MIN_YEAR <= moment.year <= MAX_YEAR


def utc(value: datetime) -> datetime:
    """The same instant in UTC; refuses naive datetimes, which would be ambiguous."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: give a timezone")
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=64)  # a conversation turn passes the same few instants many times
def sqlite_time(moment: datetime) -> str:
    """The text SQLAlchemy's SQLite DATETIME stores (UTCDateTime below): naive UTC, always
    with microseconds, so that SQL on the driver's cursor compares and keys as the ORM does."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def read_utc(value: Any) -> datetime:
    """A datetime read on the driver's cursor (SQLite's text, psycopg's aware value), in UTC."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    moment: datetime = value
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite keeps no offset; store UTC and attach it again when reading."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
