"""Set-based J-1 and H-2 planning, storage side: which slots need reminders, and queueing every
booking's reminder from the per-slot texts in one INSERT … SELECT … ON CONFLICT DO NOTHING.
100,000 bookings are about 10,000 slots' worth of Python, not 100,000 rows.

The texts and times come from flows.outbound (bot.outbox.reminder_planning computes them from
`slots_to_remind`); the channel rule is flows.outbound.channel's, written as SQL
(storage.reminder_texts.chosen_channel_sql) over the people booked on each slot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable
from sqlmodel import Session

from flows.types import SlotAudience, SlotText
from storage.models import Beneficiary, Booking, BookingStatus, Place, Slot
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S
from storage.reminder_queries import not_in_outbox, outbox_key, reachable
from storage.reminder_texts import chosen_address_sql, chosen_channel_sql
from storage.types import UTCDateTime

__all__ = ["queue_slot_reminders", "slots_to_remind"]

# One row per (slot, channel, language) to queue: the text and the times, for the INSERT … SELECT.
_plans = Table(
    "reminder_slot_plan",
    MetaData(),
    Column("slot_id", Integer, primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("body", Text, nullable=False),
    Column("segments", Integer, nullable=False),
    Column("booked_by", UTCDateTime(), nullable=False),  # bookings made later get nothing
    Column("send_at", UTCDateTime(), nullable=False),
    Column("not_after", UTCDateTime(), nullable=False),
    prefixes=["TEMPORARY"],
)
_PLAN_FIELDS = [column.name for column in _plans.columns]


def _candidates(now: datetime, until: datetime) -> list[Any]:
    return [
        Booking.status == BookingStatus.BOOKED.value,
        Slot.cancelled.is_(False),  # type: ignore[attr-defined]
        Slot.starts_at > now,
        Slot.starts_at <= until,  # type: ignore[operator]
        reachable(),
    ]


def slots_to_remind(
    session: Session,
    *,
    prefixes: Sequence[str],
    now: datetime,
    until: datetime,
    voice: bool = False,
) -> dict[str, list[SlotAudience]]:
    """For each reminder prefix (`j1:booking:` …): the slots starting in (now, until] with
    bookings whose reminder is not queued yet, once per channel and language needed. One pass
    over the bookings for every prefix; the slots' details are read once."""
    channel = chosen_channel_sql(voice=voice)
    missing = [not_in_outbox(outbox_key(prefix, Booking.id)) for prefix in prefixes]
    groups = session.execute(
        select(Booking.slot_id, channel, Beneficiary.language, *missing)
        .select_from(Booking)
        .join(Slot, Slot.id == Booking.slot_id)  # type: ignore[arg-type]
        .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)  # type: ignore[arg-type]
        .where(*_candidates(now, until), channel.is_not(None), or_(*missing))
        .distinct()
    ).all()
    wanted: dict[str, set[tuple[int, str, str]]] = {prefix: set() for prefix in prefixes}
    for slot_id, chosen, language, *flags in groups:
        for prefix, flag in zip(prefixes, flags, strict=True):
            if flag:
                wanted[prefix].add((slot_id, chosen, language))
    slot_ids = {group[0] for groups_of in wanted.values() for group in groups_of}
    slots = _slot_details(session, now, until) if slot_ids else {}
    return {
        prefix: [
            SlotAudience(slot_id, *slots[slot_id], channel=chosen, language=language)
            for slot_id, chosen, language in sorted(groups_of)
        ]
        for prefix, groups_of in wanted.items()
    }


def _slot_details(
    session: Session, now: datetime, until: datetime
) -> dict[int, tuple[datetime, str, str, str, str | None]]:
    """id → (starts_at, place, address, commune, phone) of the slots starting in (now, until]."""
    rows = session.execute(
        select(Slot.id, Slot.starts_at, Place.name, Place.address, Place.commune, Place.phone)
        .join(Place, Place.id == Slot.place_id)  # type: ignore[arg-type]
        .where(Slot.cancelled.is_(False), Slot.starts_at > now, Slot.starts_at <= until)  # type: ignore[attr-defined, operator]
    ).all()
    return {row[0]: (row[1], row[2], row[3], row[4], row[5]) for row in rows}


def queue_slot_reminders(
    session: Session,
    *,
    prefix: str,
    texts: Iterable[SlotText],
    now: datetime,
    until: datetime,
    voice: bool = False,
) -> int:
    """Queue `prefix` reminders (`j1:booking:` …) for the bookings of the given slot texts;
    bookings whose reminder is queued already are left as they are (the dedupe key)."""
    rows = _plan_rows(session, texts)
    if not rows:
        return 0
    session.execute(CreateTable(_plans, if_not_exists=True))
    session.execute(_plans.delete())
    connection = session.connection()
    connection.exec_driver_sql(_insert_plans_sql(session), rows)
    statement = _insert(session).from_select(_COLUMNS, _select(prefix, now, until, voice))
    if session.get_bind().dialect.name == "sqlite":
        queued = connection.execute(statement).rowcount
    else:  # psycopg reports no rowcount for an INSERT … SELECT: count what it returns, in SQL
        inserted = statement.returning(literal(1)).cte("queued")
        queued = session.execute(select(func.count()).select_from(inserted)).scalar_one()
    session.execute(_plans.delete())
    return int(queued)


def _plan_rows(session: Session, texts: Iterable[SlotText]) -> list[tuple[Any, ...]]:
    """The plan rows as the driver takes them, in `_PLAN_FIELDS` order. Times are bound through
    the column type (as every other write does) once per distinct value: a few hundred, not
    30,000."""
    dialect = session.get_bind().dialect
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    bound: dict[datetime, Any] = {}

    def at(value: datetime) -> Any:
        if value not in bound:
            bound[value] = process(value) if process is not None else value
        return bound[value]

    return [
        (
            t.slot_id,
            t.channel,
            t.language,
            t.body,
            t.segments,
            at(t.booked_by),
            at(t.send_at),
            at(t.not_after),
        )
        for t in texts
    ]


def _insert_plans_sql(session: Session) -> str:
    marker = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    markers = ", ".join(marker for _ in _PLAN_FIELDS)
    return f"INSERT INTO {_plans.name} ({', '.join(_PLAN_FIELDS)}) VALUES ({markers})"


_COLUMNS = [
    "channel",
    "address",
    "beneficiary_id",
    "body",
    "segments",
    "dedupe_key",
    "status",
    "attempts",
    "next_attempt_at",
    "not_after",
    "created_at",
    "updated_at",
]


def _select(prefix: str, now: datetime, until: datetime, voice: bool) -> Any:
    # No anti-join with the outbox here: ON CONFLICT (dedupe_key) DO NOTHING skips the
    # bookings already reminded, for less work than looking each key up first.
    channel = chosen_channel_sql(voice=voice)
    address = chosen_address_sql(channel)
    plan = _plans.c
    return (
        select(
            plan.channel,
            address,
            Beneficiary.id,
            plan.body,
            plan.segments,
            outbox_key(prefix, Booking.id),
            literal(S.QUEUED.value),
            literal(0),
            plan.send_at,
            plan.not_after,
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        .select_from(Booking)
        .join(Slot, Slot.id == Booking.slot_id)  # type: ignore[arg-type]
        .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)  # type: ignore[arg-type]
        .join(
            _plans,
            and_(
                plan.slot_id == Booking.slot_id,
                plan.channel == channel,
                plan.language == Beneficiary.language,
            ),
        )
        .where(*_candidates(now, until), Booking.created_at <= plan.booked_by)
    )


def _insert(session: Session) -> Any:
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    return dialect.insert(Msg.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])  # type: ignore[attr-defined]
