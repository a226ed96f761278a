"""Nearest upcoming slots with free seats, from a point.

Places are found with a bounding-box query on the (latitude, longitude) index, widened until
enough slots are found; their slots come from the (place_id, starts_at) index in distance order,
each place giving at most as many as are still wanted. No loop over every slot: a national base
(10,000 places, 200,000 slots) answers in about a millisecond (see `passnum bench`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from flows.types import SlotView
from storage.geo import haversine_km
from storage.models import Place, Slot
from storage.search_sql import POSTGRES_NEAR, POSTGRES_SLOTS, SQLITE_PLACES, SQLITE_SLOTS
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


# PostgreSQL asks for the slots of this many places in the first round trip (with the
# places), then of this many more at each further one.
_POSTGRES_PREFETCH = 4
_POSTGRES_CHUNKS = (8, 32, 128)

SlotRow = tuple[int, str, datetime, datetime, int, int]  # id, topic, starts, ends, capacity, booked


def _slot_row(row: Any) -> SlotRow:
    slot_id, topic, starts, ends, capacity, booked = row
    return slot_id, topic, read_utc(starts), read_utc(ends), capacity, booked


class _Search:
    """The search's two questions, on the driver's cursor of the session's connection: the
    places within a radius (nearest first), the bookable slots of some places (at most
    `per_place` each, soonest first)."""

    def __init__(self, session: Session, topic: str | None, earliest: datetime) -> None:
        if session.autoflush:
            session.flush()  # pending ORM rows are visible to this query, as to a select()
        connection = session.connection()
        driver = connection.connection.driver_connection
        assert driver is not None
        self.sqlite = connection.dialect.name == "sqlite"
        self.cursor = driver.cursor()
        self.params: dict[str, Any] = {
            "topic": topic,
            "earliest": sqlite_time(earliest) if self.sqlite else earliest,
        }

    def places(
        self, lat: float, lon: float, radius_km: float, *, prefetch: int, per_place: int
    ) -> tuple[list[PlaceHit], dict[int, list[SlotRow]]]:
        """Places within `radius_km`, nearest first (equal distances: lower id first), and,
        on PostgreSQL, the slots of the `prefetch` nearest (a guess of them), by place."""
        dlat = radius_km / _KM_PER_DEGREE_LAT
        lon_scale = max(math.cos(math.radians(lat)), 0.01)
        dlon = radius_km / (_KM_PER_DEGREE_LAT * lon_scale)
        box = {"south": lat - dlat, "north": lat + dlat, "west": lon - dlon, "east": lon + dlon}
        fetched: dict[int, list[SlotRow]] = {}
        if self.sqlite:
            self.cursor.execute(SQLITE_PLACES, box)
            rows = [(*row, False, None) for row in self.cursor.fetchall()]
        else:
            near = {"lat": lat, "lon": lon, "lon_scale": lon_scale, "prefetch": prefetch}
            self.cursor.execute(
                POSTGRES_NEAR, {**self.params, **box, **near, "per_place": per_place}
            )
            rows = [(*row[:8], row[8:]) for row in self.cursor.fetchall()]
        hits: dict[int, PlaceHit] = {}
        for place_id, name, address, commune, phone, p_lat, p_lon, asked, slot in rows:
            if asked:
                bucket = fetched.setdefault(place_id, [])
                if slot[0] is not None:
                    bucket.append(_slot_row(slot))
            if place_id not in hits:
                distance = haversine_km(lat, lon, p_lat, p_lon)
                if distance <= radius_km:
                    hits[place_id] = PlaceHit(place_id, name, address, commune, phone, distance)
        return sorted(hits.values(), key=lambda h: (h.distance_km, h.id)), fetched

    def slots(self, places: list[PlaceHit], per_place: int) -> dict[int, list[SlotRow]]:
        fetched: dict[int, list[SlotRow]] = {hit.id: [] for hit in places}
        if self.sqlite:
            for hit in places:
                params = {**self.params, "place_id": hit.id, "per_place": per_place}
                self.cursor.execute(SQLITE_SLOTS, params)
                fetched[hit.id] = [_slot_row(row) for row in self.cursor.fetchall()]
            return fetched
        place_ids = [hit.id for hit in places]
        params = {**self.params, "place_ids": place_ids, "per_place": per_place}
        self.cursor.execute(POSTGRES_SLOTS, params)
        for row in self.cursor.fetchall():
            fetched[row[0]].append(_slot_row(row[1:]))
        return fetched


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
    search = _Search(session, topic, now + BOOKING_NOTICE)
    try:
        found: list[SlotView] = []
        radius, done_km, done_places = _FIRST_RADIUS_KM, -1.0, 0
        while True:
            radius = min(radius, max_km)
            hits, fetched = search.places(
                latitude,
                longitude,
                radius,
                prefetch=done_places + _POSTGRES_PREFETCH,  # the nearest beyond those done
                per_place=wanted - len(found),
            )
            beyond = [hit for hit in hits if hit.distance_km > done_km]
            _collect(search, beyond, fetched, found, wanted)
            if len(found) >= wanted or radius >= max_km:
                return found[offset:wanted]
            radius, done_km, done_places = radius * 2.5, radius, len(hits)
    finally:
        search.cursor.close()


def _collect(
    search: _Search,
    hits: list[PlaceHit],
    fetched: dict[int, list[SlotRow]],
    found: list[SlotView],
    wanted: int,
) -> None:
    """Append the slots of `hits`, in order, until `wanted` are found; the slots of places
    not in `fetched` are asked for a chunk of places at a time (one place on SQLite, where a
    query costs no round trip), at most as many per place as are still wanted."""
    chunks = iter((1,) if search.sqlite else _POSTGRES_CHUNKS)
    size = next(chunks)
    for n, hit in enumerate(hits):
        if len(found) >= wanted:
            return
        if hit.id not in fetched:
            asked = [h for h in hits[n : n + size] if h.id not in fetched]
            fetched.update(search.slots(asked, wanted - len(found)))
            size = next(chunks, size)
        found.extend(_view(hit, row) for row in fetched[hit.id][: wanted - len(found)])


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
