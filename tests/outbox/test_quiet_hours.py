"""Quiet hours: 20:00-08:00, Sundays and French public holidays (pure, no database)."""

from __future__ import annotations

import pytest

from bot.outbox.quiet_hours import is_quiet, next_allowed, previous_open_day
from tests.outbox.conftest import make_settings, paris

S = make_settings()


@pytest.mark.parametrize(
    "moment, quiet",
    [
        ("2026-12-01 07:59", True),
        ("2026-12-01 08:00", False),
        ("2026-12-01 19:59", False),
        ("2026-12-01 20:00", True),
        ("2026-12-01 23:30", True),
        ("2026-12-06 12:00", True),  # Sunday
        ("2026-12-25 12:00", True),  # Christmas (Friday)
        ("2027-07-14 12:00", True),  # Bastille Day (Wednesday)
        ("2027-07-15 12:00", False),
    ],
)
def test_quiet_times(moment: str, quiet: bool) -> None:
    assert is_quiet(paris(moment), S) is quiet


@pytest.mark.parametrize(
    "moment, allowed",
    [
        ("2026-12-01 10:00", "2026-12-01 10:00"),
        ("2026-12-01 06:30", "2026-12-01 08:00"),
        ("2026-12-01 21:00", "2026-12-02 08:00"),
        ("2026-12-05 21:00", "2026-12-07 08:00"),  # Saturday night → Monday
        ("2026-12-24 20:30", "2026-12-26 08:00"),  # over Christmas
        ("2027-07-13 22:00", "2027-07-15 08:00"),  # over 14 July
    ],
)
def test_next_allowed(moment: str, allowed: str) -> None:
    assert next_allowed(paris(moment), S) == paris(allowed)


def test_other_windows_and_previous_open_day() -> None:
    daytime = make_settings(quiet_hours="12:00-14:00")
    assert next_allowed(paris("2026-12-01 12:30"), daytime) == paris("2026-12-01 14:00")
    assert not is_quiet(paris("2026-12-01 23:00"), daytime)
    assert previous_open_day(paris("2026-12-06 00:00").date()).isoformat() == "2026-12-05"
    assert previous_open_day(paris("2026-12-25 00:00").date()).isoformat() == "2026-12-24"
