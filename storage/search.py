"""Nearest upcoming slots with free seats, from a point.

Places are found with a bounding-box query on the (latitude, longitude) index, widened until
enough slots are found; their slots come from the (place_id, starts_at) index in distance order,
each place giving at most as many as are still wanted. No loop over every slot: a national base
(10,000 places, 200,000 slots) answers in about a millisecond (see `passnum bench`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from flows.types import SlotView
from storage.geo import haversine_km
from storage.models import Place, Slot
from storage.types import read_utc, sqlite_time

__all__ = ["NEAREST_MAX_KM", "PlaceHit", "nearest_slots", "slot_view"]

NEAREST_MAX_KM = 40.0  # beyond this, "no session near you"
BOOKING_NOTICE = timedelta(hours=1)  # slots starting sooner are not offered
_FIRST_RADIUS_KM = 4.0
_KM_PER_DEGREE_LAT = 111.2


@dataclass(frozen=True)
class PlaceHit:
    """A place near the point: the columns a slot view needs, and its distance."""

    id: int
    name: str
    address: str
    commune: str
    phone: str | None
    distance_km: float


def slot_view(slot: Slot, place: Place, distance_km: float | None = None) -> SlotView:
    return SlotView(
        id=slot.id or 0,
        place_name=place.name,
        address=place.address,
        commune=place.commune,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        topic=slot.topic,
        free_seats=max(slot.capacity - slot.booked, 0),
        place_phone=place.phone,
        distance_km=distance_km,
    )


# Both statements run on the driver's cursor, their text fixed: sqlite3 keeps them prepared in
# its statement cache, psycopg prepares them on the server after a few uses. `:name` is
# sqlite3's parameter style, `%(name)s` psycopg's.
_PLACES_SQL = (
    "SELECT id, name, address, commune, phone, latitude, longitude FROM place "
    "WHERE latitude BETWEEN {south} AND {north} AND longitude BETWEEN {west} AND {east}"
)
# Bookable slots of one place, soonest first (the (place_id, starts_at) index, no sort).
_SQLITE_SLOTS = (
    "SELECT id, topic, starts_at, ends_at, capacity, booked FROM slot "
    "WHERE place_id = :place_id AND starts_at >= :earliest AND booked < capacity "
    "AND cancelled = 0 AND (:topic IS NULL OR topic = :topic) "
    "ORDER BY starts_at, id LIMIT :per_place"
)
# PostgreSQL: the same per place, for several places in one round trip (LATERAL), in the
# order given.
_POSTGRES_SLOTS = (
    "SELECT candidate.place_id, s.id, s.topic, s.starts_at, s.ends_at, s.capacity, s.booked "
    "FROM unnest(%(place_ids)s::integer[]) WITH ORDINALITY AS candidate(place_id, n) "
    "CROSS JOIN LATERAL (SELECT id, topic, starts_at, ends_at, capacity, booked FROM slot "
    "WHERE slot.place_id = candidate.place_id AND starts_at >= %(earliest)s "
    "AND booked < capacity AND NOT cancelled "
    "AND (%(topic)s::text IS NULL OR topic = %(topic)s::text) "
    "ORDER BY starts_at, id LIMIT %(per_place)s) AS s "
    "ORDER BY candidate.n, s.starts_at, s.id"
)
_SQL = {
    "sqlite": _PLACES_SQL.format(south=":south", north=":north", west=":west", east=":east"),
    "postgresql": _PLACES_SQL.format(
        south="%(south)s", north="%(north)s", west="%(west)s", east="%(east)s"
    ),
}
# PostgreSQL asks for the slots of this many places at a time, more at each round trip.
_POSTGRES_CHUNKS = (4, 16, 64)

SlotRow = tuple[int, str, datetime, datetime, int, int]  # id, topic, starts, ends, capacity, booked


def _places_within(
    cursor: Any, sql: str, lat: float, lon: float, radius_km: float
) -> list[PlaceHit]:
    """Places within `radius_km`, nearest first (equal distances: lower id first)."""
    dlat = radius_km / _KM_PER_DEGREE_LAT
    dlon = radius_km / (_KM_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    cursor.execute(
        sql, {"south": lat - dlat, "north": lat + dlat, "west": lon - dlon, "east": lon + dlon}
    )
    hits = []
    for place_id, name, address, commune, phone, p_lat, p_lon in cursor.fetchall():
        distance = haversine_km(lat, lon, p_lat, p_lon)
        if distance <= radius_km:
            hits.append(PlaceHit(place_id, name, address, commune, phone, distance))
    hits.sort(key=lambda h: (h.distance_km, h.id))
    return hits


class _SlotSource:
    """The bookable slots of places, asked for in distance order, at most `per_place` each."""

    def __init__(self, session: Session, topic: str | None, earliest: datetime) -> None:
        if session.autoflush:
            session.flush()  # pending ORM rows are visible to this query, as to a select()
        connection = session.connection()
        driver = connection.connection.driver_connection
        assert driver is not None
        self.sqlite = connection.dialect.name == "sqlite"
        self.cursor = driver.cursor()
        self.places_sql = _SQL["sqlite" if self.sqlite else "postgresql"]
        self.params: dict[str, Any] = {
            "topic": topic,
            "earliest": sqlite_time(earliest) if self.sqlite else earliest,
        }

    def slots(self, places: list[PlaceHit], per_place: int) -> Iterator[tuple[PlaceHit, SlotRow]]:
        if self.sqlite:
            for hit in places:
                self.cursor.execute(
                    _SQLITE_SLOTS, {**self.params, "place_id": hit.id, "per_place": per_place}
                )
                for slot_id, topic, starts, ends, capacity, booked in self.cursor.fetchall():
                    yield hit, (slot_id, topic, read_utc(starts), read_utc(ends), capacity, booked)
            return
        by_id = {hit.id: hit for hit in places}
        self.cursor.execute(
            _POSTGRES_SLOTS,
            {**self.params, "place_ids": [hit.id for hit in places], "per_place": per_place},
        )
        for place_id, slot_id, topic, starts, ends, capacity, booked in self.cursor.fetchall():
            yield (
                by_id[place_id],
                (slot_id, topic, read_utc(starts), read_utc(ends), capacity, booked),
            )


def nearest_slots(
    session: Session,
    *,
    latitude: float,
    longitude: float,
    now: datetime,
    topic: str | None = None,
    offset: int = 0,
    limit: int = 3,
    max_km: float = NEAREST_MAX_KM,
) -> list[SlotView]:
    """Slots sorted by the place's distance, then start time; skips those within the hour.

    The places within a radius are taken nearest first, and each gives at most as many slots
    as are still wanted (a per-place limit in SQL); when they are not enough, the radius
    widens and only the places beyond the previous one are asked."""
    wanted = offset + limit
    source = _SlotSource(session, topic, now + BOOKING_NOTICE)
    try:
        found: list[SlotView] = []
        radius, done_km = _FIRST_RADIUS_KM, -1.0
        while True:
            radius = min(radius, max_km)
            hits = _places_within(source.cursor, source.places_sql, latitude, longitude, radius)
            _collect(source, [h for h in hits if h.distance_km > done_km], found, wanted)
            if len(found) >= wanted or radius >= max_km:
                return found[offset:wanted]
            radius, done_km = radius * 2.5, radius
    finally:
        source.cursor.close()


def _collect(source: _SlotSource, hits: list[PlaceHit], found: list[SlotView], wanted: int) -> None:
    """Append the slots of `hits`, in order, until `wanted` are found."""
    chunks = (1,) if source.sqlite else _POSTGRES_CHUNKS
    start, step = 0, 0
    while start < len(hits) and len(found) < wanted:
        size = chunks[min(step, len(chunks) - 1)]
        for hit, row in source.slots(hits[start : start + size], wanted - len(found)):
            found.append(_view(hit, row))
        start, step = start + size, step + 1


def _view(hit: PlaceHit, row: SlotRow) -> SlotView:
    slot_id, topic, starts, ends, capacity, booked = row
    return SlotView(
        id=slot_id,
        place_name=hit.name,
        address=hit.address,
        commune=hit.commune,
        starts_at=starts,
        ends_at=ends,
        topic=topic,
        free_seats=max(capacity - booked, 0),
        place_phone=hit.phone,
        distance_km=round(hit.distance_km, 1),
    )
