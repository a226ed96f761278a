"""Synthetic national-size data for the benchmarks: places spread over France, future slots."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from storage.models import Place, Slot, Topic

__all__ = ["seed_national", "TOPIC_KEYS"]

TOPIC_KEYS = [
    "email",
    "demarches",
    "logement",
    "smartphone",
    "ordinateur",
    "securite",
    "visio",
    "emploi",
]
# Metropolitan France, roughly: places cluster around a few hundred towns.
_LAT, _LON = (42.5, 51.0), (-4.5, 7.8)


def seed_national(
    engine: Engine, *, places: int, slots: int, seed: int = 7
) -> tuple[datetime, list[tuple[float, float]]]:
    """Insert `places` places and `slots` future slots; return (now, sample search points)."""
    rng = random.Random(seed)
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    towns = [(rng.uniform(*_LAT), rng.uniform(*_LON)) for _ in range(max(places // 25, 1))]
    place_rows = []
    for n in range(places):
        lat, lon = towns[n % len(towns)]
        place_rows.append(
            {
                "external_id": f"bench-{n}",
                "name": f"Lieu {n}",
                "address": f"{n} rue",
                "postcode": "75000",
                "commune": "Ville",
                "latitude": lat + rng.gauss(0, 0.03),
                "longitude": lon + rng.gauss(0, 0.03),
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(Topic), [{"key": k, "label_fr": k, "label_en": k} for k in TOPIC_KEYS])
        conn.execute(insert(Place), place_rows)
        ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM place ORDER BY id")]
        for start in range(0, slots, 20_000):
            batch = []
            for n in range(start, min(start + 20_000, slots)):
                begins = now + timedelta(hours=rng.randint(1, 24 * 28))
                batch.append(
                    {
                        "external_id": f"bench-slot-{n}",
                        "place_id": rng.choice(ids),
                        "topic": rng.choice(TOPIC_KEYS),
                        "language": "fr",
                        "starts_at": begins,
                        "ends_at": begins + timedelta(hours=2),
                        "capacity": 8,
                        "booked": rng.choice([0, 3, 8]),
                        "cancelled": False,
                    }
                )
            conn.execute(insert(Slot), batch)
    return now, [(lat + rng.gauss(0, 0.05), lon + rng.gauss(0, 0.05)) for lat, lon in towns]
