"""Staff reads shared by the staff API and the console, so each is written once: the
statistics (audited as a view) and the places import (admins only, audited)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from storage.imports import ImportReport, import_places
from storage.staff import StaffIdentity, StaffRefused, actor_of, audit
from storage.stats import Stats, staff_stats

__all__ = ["import_places_as", "read_stats"]


def read_stats(session: Session, *, staff: StaffIdentity, price_eur: float, now: datetime) -> Stats:
    """Every count `staff` may see; the view is audited."""
    audit(session, actor=actor_of(staff), action="stats.view", record=None, now=now)
    return staff_stats(session, staff=staff, price_eur=price_eur)


def import_places_as(
    session: Session, *, staff: StaffIdentity, lines: Iterable[str], now: datetime
) -> ImportReport:
    """The national places CSV, imported like `passnum import places` (admins only)."""
    if not staff.is_admin:
        raise StaffRefused("forbidden", "only an admin may import places")
    report = import_places(session, lines)
    audit(
        session,
        actor=actor_of(staff),
        action="places.import",
        record=None,
        now=now,
        detail=report.summary(),
    )
    return report
