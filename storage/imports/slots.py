"""Import of slots (sessions at a place) by their external id; `booked` is never reset."""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from config.reference import topics
from storage.imports.cells import integer, limited, when
from storage.imports.csv_reading import (
    CsvRow,
    ImportReport,
    Outcome,
    Progress,
    RowProblem,
    Source,
    header_error,
    read_csv,
)
from storage.imports.running import apply_changes, fetch_in, mark_seen, run_rows
from storage.imports.topics import ensure_topics
from storage.models import Place, Slot

__all__ = ["PARIS", "SLOT_COLUMNS", "import_slots"]

SLOT_COLUMNS = ("id", "place_id", "topic", "starts_at", "ends_at", "capacity")
PARIS = ZoneInfo("Europe/Paris")


def import_slots(
    session: Session,
    path_or_lines: Source,
    on_progress: Progress | None = None,
    *,
    tz: tzinfo = PARIS,
) -> ImportReport:
    """Upsert slots by `id`; times without an offset are local (`tz`). `booked` is never reset."""
    try:
        rows = read_csv(path_or_lines, SLOT_COLUMNS)
    except RowProblem as problem:
        return header_error(problem)
    ensure_topics(session)
    topic_keys = {info.key for info in topics()}
    places = fetch_in(session, Place, Place.external_id, [r.get("place_id") for r in rows])
    place_ids = {place.external_id: place.id for place in places}
    existing = {
        s.external_id: s
        for s in fetch_in(session, Slot, Slot.external_id, [r.get("id") for r in rows])
    }
    seen: dict[str, int] = {}

    def handle(row: CsvRow) -> Outcome:
        values = _slot_values(row, place_ids, topic_keys, tz)
        mark_seen(seen, values["external_id"], row)
        slot = existing.get(values["external_id"])
        if slot is None:
            existing[values["external_id"]] = slot = Slot(**values)
            session.add(slot)
            return "created"
        if values["capacity"] < slot.booked:
            raise RowProblem(
                f"capacity: {values['capacity']} is below the {slot.booked} seats already booked"
            )
        return "updated" if apply_changes(slot, values) else "unchanged"

    return run_rows(session, rows, handle, on_progress)


def _slot_values(
    row: CsvRow, place_ids: dict[str, int | None], topic_keys: set[str], tz: tzinfo
) -> dict[str, Any]:
    place_id = place_ids.get(row.required("place_id"))
    if place_id is None:
        raise RowProblem(f"place_id: no place {row.get('place_id')!r} (import places first)")
    topic = row.required("topic").lower()
    if topic not in topic_keys:
        raise RowProblem(f"topic: {topic!r} is not one of {', '.join(sorted(topic_keys))}")
    starts_at, ends_at = when(row, "starts_at", tz), when(row, "ends_at", tz)
    if ends_at <= starts_at:
        raise RowProblem("ends_at: not after starts_at")
    language = row.get("language").lower() or "fr"
    if not re.fullmatch(r"[a-z]{2}", language):
        raise RowProblem(f"language: {language!r} is not a two-letter code")
    return {
        "external_id": limited(row.required("id"), "id", 128),
        "place_id": place_id,
        "topic": topic,
        "title": row.get("title") or None,
        "language": language,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": integer(row.required("capacity"), "capacity", 1, 1000),
    }
