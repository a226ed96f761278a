"""The nearest-slot search gives exactly what the previous version gave (every future slot of
every nearby place fetched, the first ones kept in Python), on a seeded national-like data set,
for many points, topics and pages, on both databases. The previous version is kept here as
the reference, with one deliberate change: equal distances and equal start times are ordered
by id (they were in the database's order, which PostgreSQL does not fix)."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import and_, select, update
from sqlmodel import Session

from bot.bench.data import TOPIC_KEYS, seed_national
from flows.types import SlotView
from storage.db import unit_of_work
from storage.geo import haversine_km
from storage.models import Place, Slot
from storage.search import BOOKING_NOTICE, NEAREST_MAX_KM, nearest_slots


def _previous(
    session: Session,
    *,
    latitude: float,
    longitude: float,
    now: datetime,
    topic: str | None,
    offset: int,
    limit: int,
) -> list[SlotView]:
    """storage.search.nearest_slots before the per-place limit (radius 4 km, × 2.5 to 40)."""
    wanted, earliest, radius = offset + limit, now + BOOKING_NOTICE, 4.0
    while True:
        radius = min(radius, NEAREST_MAX_KM)
        dlat = radius / 111.2
        dlon = radius / (111.2 * max(math.cos(math.radians(latitude)), 0.01))
        places = session.execute(
            select(Place).where(
                Place.latitude.between(latitude - dlat, latitude + dlat),
                Place.longitude.between(longitude - dlon, longitude + dlon),
            )
        ).scalars()
        hits = sorted(
            (
                (haversine_km(latitude, longitude, p.latitude, p.longitude), p.id or 0, p)
                for p in places
            ),
            key=lambda hit: hit[:2],
        )
        hits = [hit for hit in hits if hit[0] <= radius]
        conditions = [
            Slot.place_id.in_([hit[1] for hit in hits]),
            Slot.starts_at >= earliest,
            Slot.booked < Slot.capacity,
            Slot.cancelled.is_(False),
        ]
        if topic:
            conditions.append(Slot.topic == topic)
        by_place: dict[int, list[Slot]] = {}
        for slot in session.execute(
            select(Slot).where(and_(*conditions)).order_by(Slot.starts_at, Slot.id)
        ).scalars():
            by_place.setdefault(slot.place_id, []).append(slot)
        found = [
            SlotView(
                id=slot.id or 0,
                place_name=place.name,
                address=place.address,
                commune=place.commune,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                topic=slot.topic,
                free_seats=max(slot.capacity - slot.booked, 0),
                place_phone=place.phone,
                distance_km=round(distance, 1),
            )
            for distance, place_id, place in hits
            for slot in by_place.get(place_id, [])[:wanted]
        ]
        if len(found) >= wanted or radius >= NEAREST_MAX_KM:
            return found[offset:wanted]
        radius *= 2.5


@pytest.fixture
def seeded(engine):  # type: ignore[no-untyped-def]
    """2,000 places around 80 towns, 20,000 slots; some cancelled, some with equal times,
    some places at the very same point."""
    now, points = seed_national(engine, places=2_000, slots=20_000, seed=11)
    with unit_of_work(engine) as session:
        for place in session.scalars(select(Place).where(Place.id % 40 == 1)).all():
            twin = Place(**{**place.model_dump(), "id": None, "external_id": f"twin-{place.id}"})
            session.add(twin)
            session.flush()
            session.execute(
                update(Slot)
                .where(Slot.place_id == place.id, Slot.id % 2 == 0)
                .values(place_id=twin.id)
            )
        session.commit()
    with engine.begin() as connection:
        connection.execute(update(Slot).where(Slot.id % 7 == 0).values(cancelled=True))
        # equal start times at one place: the order between them is the id's
        connection.execute(
            update(Slot)
            .where(Slot.id % 5 == 0)
            .values(starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=2))
        )
    rng = random.Random(3)
    far = [(rng.uniform(42.5, 51.0), rng.uniform(-4.5, 7.8)) for _ in range(20)]
    return engine, now, points + far


def test_same_slots_as_the_previous_search(seeded) -> None:  # type: ignore[no-untyped-def]
    engine, now, points = seeded
    rng = random.Random(5)
    compared = 0
    with unit_of_work(engine) as session:
        for n, (lat, lon) in enumerate(points):
            topic = [None, None, rng.choice(TOPIC_KEYS)][n % 3]
            offset, limit = rng.choice([(0, 3), (0, 1), (3, 3), (0, 10), (6, 6)])
            later = now + timedelta(days=rng.choice([0, 0, 10, 27]))
            query = {"latitude": lat, "longitude": lon, "topic": topic, "offset": offset}
            expected = _previous(session, now=later, limit=limit, **query)
            assert nearest_slots(session, now=later, limit=limit, **query) == expected
            compared += len(expected)
    assert compared > 250  # most points have slots near them


def test_rows_added_in_the_same_session_are_seen(engine) -> None:  # type: ignore[no-untyped-def]
    now, points = seed_national(engine, places=50, slots=0, seed=2)
    with unit_of_work(engine) as session:
        place = session.scalars(select(Place).order_by(Place.id)).first()
        assert place is not None
        session.add(
            Slot(
                external_id="added",
                place_id=place.id or 0,
                topic="email",
                starts_at=now + timedelta(days=1),
                ends_at=now + timedelta(days=1, hours=2),
                capacity=4,
            )
        )
        found = nearest_slots(session, latitude=place.latitude, longitude=place.longitude, now=now)
        assert [slot.place_name for slot in found] == [place.name]
