"""The nearest-slot search's SQL (storage.search), written once at import and run on the
driver's cursor: sqlite3 keeps the statements prepared in its statement cache, psycopg
prepares them on the server after a few uses. `:name` is sqlite3's parameter style,
`%(name)s` psycopg's."""

from __future__ import annotations

__all__ = ["POSTGRES_NEAR", "POSTGRES_SLOTS", "SQLITE_PLACES", "SQLITE_SLOTS"]

_BOOKABLE = (
    "starts_at >= {earliest} AND booked < capacity AND {not_cancelled} "
    "AND ({topic} IS NULL OR topic = {topic})"
)
_SQLITE_BOOKABLE = _BOOKABLE.format(
    earliest=":earliest", not_cancelled="cancelled = 0", topic=":topic"
)
_POSTGRES_BOOKABLE = _BOOKABLE.format(
    earliest="%(earliest)s", not_cancelled="NOT cancelled", topic="%(topic)s::text"
)

SQLITE_PLACES = (
    "SELECT id, name, address, commune, phone, latitude, longitude FROM place "
    "WHERE latitude BETWEEN :south AND :north AND longitude BETWEEN :west AND :east"
)
# The bookable slots of one place, soonest first: the (place_id, starts_at) index, no sort.
SQLITE_SLOTS = (
    "SELECT id, topic, starts_at, ends_at, capacity, booked FROM slot "
    f"WHERE place_id = :place_id AND {_SQLITE_BOOKABLE} "
    "ORDER BY starts_at, id LIMIT :per_place"
)

# PostgreSQL, one round trip for the common case: the places in the box, each with its rank
# by a flat-earth distance (only a guess of the order: the search sorts by the exact distance
# in Python), and the bookable slots of the first `prefetch` of them, at most `per_place`
# each (LATERAL; the other places' subquery is skipped by its one-time filter).
POSTGRES_NEAR = (
    "WITH near AS (SELECT id, name, address, commune, phone, latitude, longitude, "
    "row_number() OVER (ORDER BY (latitude - %(lat)s) ^ 2 "
    "+ ((longitude - %(lon)s) * %(lon_scale)s) ^ 2, id) AS rank "
    "FROM place WHERE latitude BETWEEN %(south)s AND %(north)s "
    "AND longitude BETWEEN %(west)s AND %(east)s) "
    "SELECT near.id, near.name, near.address, near.commune, near.phone, near.latitude, "
    "near.longitude, near.rank <= %(prefetch)s, "
    "s.id, s.topic, s.starts_at, s.ends_at, s.capacity, s.booked "
    "FROM near LEFT JOIN LATERAL (SELECT id, topic, starts_at, ends_at, capacity, booked "
    f"FROM slot WHERE slot.place_id = near.id AND near.rank <= %(prefetch)s "
    f"AND {_POSTGRES_BOOKABLE} ORDER BY starts_at, id LIMIT %(per_place)s) AS s ON true "
    "ORDER BY near.rank, s.starts_at, s.id"
)
# The bookable slots of the given places, at most `per_place` each, in one round trip.
POSTGRES_SLOTS = (
    "SELECT candidate.place_id, s.id, s.topic, s.starts_at, s.ends_at, s.capacity, s.booked "
    "FROM unnest(%(place_ids)s::integer[]) AS candidate(place_id) "
    "CROSS JOIN LATERAL (SELECT id, topic, starts_at, ends_at, capacity, booked FROM slot "
    f"WHERE slot.place_id = candidate.place_id AND {_POSTGRES_BOOKABLE} "
    "ORDER BY starts_at, id LIMIT %(per_place)s) AS s "
    "ORDER BY s.starts_at, s.id"
)
