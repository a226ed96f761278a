"""Bookings and attendance per week, for the console's weekly chart.

A week is the ISO week (Monday to Sunday, UTC), named by its Monday ('2026-03-02'); bookings
count in the week of their session. The SQL names the Monday on both databases (SQLite's
date modifiers, PostgreSQL's date_trunc); weeks without sessions are filled with zeros here
so the chart's axis has no gaps. `place_ids` limits the count to those places (None: all).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import Booking, Slot

__all__ = ["WEEKS_AFTER", "WEEKS_BEFORE", "monday_of", "weekly_bookings"]

WEEKS_BEFORE = 11  # with this week: the last twelve weeks
WEEKS_AFTER = 4  # sessions already booked in the coming weeks
_COUNTED = ("booked", "attended", "no_show")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        # stored as 'YYYY-MM-DD HH:MM:SS' in UTC: the next Sunday (or that day), less six days
        return func.date(column, "weekday 0", "-6 days")
    return func.to_char(func.date_trunc("week", func.timezone("UTC", column)), "YYYY-MM-DD")


def weekly_bookings(
    session: Session, *, place_ids: Collection[int] | None, now: datetime
) -> list[dict[str, Any]]:
    """`[{"week": "2026-03-02", "bookings": 5, "attended": 3, "no_show": 1}, …]`, oldest
    first, from eleven weeks ago to four weeks ahead; cancelled bookings are not counted."""
    first = monday_of(now.date()) - timedelta(weeks=WEEKS_BEFORE)
    after = monday_of(now.date()) + timedelta(weeks=WEEKS_AFTER + 1)
    week = _week(session, Slot.starts_at)
    query = (
        select(week, Booking.status, func.count())
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Slot.starts_at >= datetime.combine(first, datetime.min.time(), now.tzinfo),
            Slot.starts_at < datetime.combine(after, datetime.min.time(), now.tzinfo),
            Booking.status.in_(_COUNTED),
        )
        .group_by(week, Booking.status)
    )
    if place_ids is not None:
        query = query.where(Slot.place_id.in_(place_ids))
    weeks = {
        (first + timedelta(weeks=n)).isoformat(): {"bookings": 0, "attended": 0, "no_show": 0}
        for n in range(WEEKS_BEFORE + WEEKS_AFTER + 1)
    }
    for monday, status, count in session.execute(query).all():
        entry = weeks.get(str(monday)[:10])
        if entry is None:
            continue
        entry["bookings"] += count
        if status in ("attended", "no_show"):
            entry[status] += count
    return [{"week": monday, **counts} for monday, counts in weeks.items()]
