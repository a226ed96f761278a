"""Bookings and attendance per ISO week, on SQLite and PostgreSQL: the week of a session is
that of its UTC start (Sunday 23:30 is the week before Monday 00:00), cancelled bookings do not
count, empty weeks are zeros, and a count can be limited to some places."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlmodel import Session

from storage.models import Booking, Booklet, Voucher
from storage.stats_weekly import WEEKS_AFTER, WEEKS_BEFORE, weekly_bookings
from tests import factories

NOW = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)  # a Wednesday; its week starts on 2026-03-09


def _book(session: Session, slot_id: int, status: str) -> None:
    person = factories.beneficiary(session)
    voucher = session.scalar(
        select(Voucher.id).join(Booklet).where(Booklet.beneficiary_id == person.id)
    )
    session.add(
        Booking(
            slot_id=slot_id,
            beneficiary_id=person.id or 0,
            voucher_id=voucher or 0,
            status=status,
            created_at=NOW,
            updated_at=NOW,
        )
    )


def test_weeks_count_bookings_and_attendance_by_the_sessions_utc_week(engine: Engine) -> None:
    with Session(engine) as session:
        here = factories.place(session).id or 0
        there = factories.place(session).id or 0
        sunday_late = factories.slot(
            session, place_id=here, starts_at=datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
        )
        monday_early = factories.slot(
            session, place_id=here, starts_at=datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
        )
        elsewhere = factories.slot(
            session, place_id=there, starts_at=datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
        )
        too_old = factories.slot(session, place_id=here, starts_at=NOW - timedelta(weeks=20))
        _book(session, sunday_late.id or 0, "attended")
        _book(session, sunday_late.id or 0, "no_show")
        _book(session, monday_early.id or 0, "booked")
        _book(session, monday_early.id or 0, "attended")
        _book(session, monday_early.id or 0, "cancelled")
        _book(session, elsewhere.id or 0, "attended")
        _book(session, too_old.id or 0, "attended")
        session.commit()

        weeks = weekly_bookings(session, place_ids=None, now=NOW)
        theirs = weekly_bookings(session, place_ids=(here,), now=NOW)

    assert len(weeks) == WEEKS_BEFORE + 1 + WEEKS_AFTER
    assert weeks[0]["week"] == "2025-12-22" and weeks[-1]["week"] == "2026-04-06"
    by_week = {row["week"]: row for row in weeks}
    assert by_week["2026-03-02"] == {
        "week": "2026-03-02",
        "bookings": 2,
        "attended": 1,
        "no_show": 1,
    }
    assert by_week["2026-03-09"] == {
        "week": "2026-03-09",
        "bookings": 3,
        "attended": 2,
        "no_show": 0,
    }
    assert sum(row["bookings"] for row in weeks) == 5  # the old session is out of the window
    assert {row["week"]: row["bookings"] for row in theirs}["2026-03-09"] == 2
