"""Set-based J-1 and H-2 planning: the schedule and the text are computed once per slot (and
per channel and language), then one INSERT … SELECT … ON CONFLICT DO NOTHING queues every
booking's reminder. 100,000 bookings are about 10,000 slots' worth of Python, not 100,000 rows.

The texts and times come from flows.outbound (computed by bot.reminder_planning from
`booked_slots`); the channel rule is flows.outbound.channel's, written as SQL
(storage.reminder_texts.chosen_channel_sql) over the people booked on each slot.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    insert,
    literal,
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

__all__ = ["booked_slots", "queue_slot_reminders"]

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


def _candidates(prefix: str, now: datetime, until: datetime) -> list[Any]:
    return [
        Booking.status == BookingStatus.BOOKED.value,
        Slot.cancelled.is_(False),  # type: ignore[attr-defined]
        Slot.starts_at > now,
        Slot.starts_at <= until,  # type: ignore[operator]
        reachable(),
        not_in_outbox(outbox_key(prefix, Booking.id)),
    ]


def booked_slots(
    session: Session, *, prefix: str, now: datetime, until: datetime, voice: bool = False
) -> list[SlotAudience]:
    """Slots starting in (now, until] with bookings whose `prefix` reminder is not queued yet,
    once per channel and language needed."""
    channel = chosen_channel_sql(voice=voice)
    query = (
        select(
            Slot.id,
            Slot.starts_at,
            Place.name,
            Place.address,
            Place.commune,
            Place.phone,
            channel,
            Beneficiary.language,
        )
        .select_from(Booking)
        .join(Slot, Slot.id == Booking.slot_id)  # type: ignore[arg-type]
        .join(Place, Place.id == Slot.place_id)  # type: ignore[arg-type]
        .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)  # type: ignore[arg-type]
        .where(*_candidates(prefix, now, until), channel.is_not(None))
        .distinct()
    )
    return [SlotAudience(*row) for row in session.execute(query).all()]


def queue_slot_reminders(
    session: Session,
    *,
    prefix: str,
    texts: Iterable[SlotText],
    now: datetime,
    until: datetime,
    voice: bool = False,
) -> int:
    """Queue `prefix` reminders (`j1:booking:` …) for the bookings of the given slot texts."""
    rows = [vars(t) for t in texts]
    if not rows:
        return 0
    session.execute(CreateTable(_plans, if_not_exists=True))
    session.execute(_plans.delete())
    session.execute(insert(_plans), rows)
    statement = _insert(session).from_select(_COLUMNS, _select(prefix, now, until, voice))
    if session.get_bind().dialect.name == "sqlite":
        queued = session.connection().execute(statement).rowcount
    else:  # psycopg reports no rowcount for an INSERT … SELECT that SQLAlchemy built
        queued = len(session.execute(statement.returning(Msg.id)).all())
    session.execute(_plans.delete())
    return int(queued)


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
        .where(*_candidates(prefix, now, until), Booking.created_at <= plan.booked_by)
    )


def _insert(session: Session) -> Any:
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    return dialect.insert(Msg.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])  # type: ignore[attr-defined]
