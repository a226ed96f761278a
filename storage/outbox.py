"""The outbox: every message that leaves outside a webhook answer is a row here first.

Life of a row: `queued` → (claimed) `sending` → `sent` → `delivered`, or `failed` / `cancelled`.
A claim is one atomic statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises
writers with BEGIN IMMEDIATE) and lasts `claim_for`; its `claimed_until` is the claim's token.

Messages are committed as "attempt started" (`start_attempts`, a few at a time) just before
their provider calls and their outcomes are recorded as soon as those calls return. A worker
that dies therefore leaves:
- rows never attempted (`attempt_started_at` empty): claimable again once the claim expired —
  sending them cannot make a duplicate;
- rows whose call was under way: "sent, unconfirmed". They are never re-queued blindly:
  `claim_unconfirmed` hands them to the reconciliation (bot.outbox.reconcile), which asks
  the provider whether it has the message.
The SMS daily cap is a counter row per (channel, local day) (`OutboundSpend`): `begin_wave`
adds a wave's segments in the transaction that marks it started, the counter row locked
meanwhile, so dispatchers in several processes never spend past the cap between them;
`refund_spend` gives back what is known not to have gone out.

Functions take the caller's session and never commit, except `claim_batch`,
`claim_unconfirmed`, `start_attempts` and `begin_wave`, which must commit before anything is
sent. The dispatcher's hot statements (claim, start, sent) and the bulk enqueue are SQL written
once per dialect and run on the driver's cursor: SQLAlchemy's statement building and per-row
parameter processing cost more than the statements themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import is_sqlite, unit_of_work
from storage.models import Beneficiary
from storage.models import OutboundMessage as Msg
from storage.models import OutboundSpend as Spend
from storage.models import OutboundStatus as S

__all__ = [
    "Claimed",
    "DailyCap",
    "Wave",
    "begin_wave",
    "refund_spend",
    "spent_on",
    "apply_status_callback",
    "cancel_expired",
    "claim_batch",
    "claim_unconfirmed",
    "count_by_status",
    "enqueue",
    "enqueue_many",
    "has_due",
    "mark_cancelled",
    "mark_deferred",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "mark_sent_many",
    "purge_bodies",
    "RecipientFlags",
    "recipient_flags",
    "segments_sent_since",
    "start_attempts",
]

_TABLE = Msg.__table__  # type: ignore[attr-defined]
_SPEND = Spend.__table__  # type: ignore[attr-defined]
# Forward-only ranks for delivery callbacks; failed is terminal like delivered.
_RANK = {S.QUEUED: 0, S.SENDING: 1, S.SENT: 2, S.DELIVERED: 3, S.FAILED: 3}
_PROVIDER_STATUS = {
    "sent": S.SENT,
    "delivered": S.DELIVERED,
    "read": S.DELIVERED,
    "failed": S.FAILED,
    "undelivered": S.FAILED,
}


@dataclass(frozen=True)
class Claimed:
    """A row claimed for sending. `{"id": 7, "channel": "sms", "address": "+33612345678",
    "body": "Rappel : ...", "segments": 1, "attempts": 1, "beneficiary_id": 3,
    "dedupe_key": "j1:booking:12", "not_after": null}`"""

    id: int
    channel: str
    address: str
    body: str | None
    segments: int
    attempts: int
    beneficiary_id: int | None
    dedupe_key: str | None
    not_after: datetime | None
    claimed_until: datetime | None = None
    attempt_started_at: datetime | None = None


@dataclass(frozen=True)
class RecipientFlags:
    """`{"opted_out": false, "reminders_enabled": true}` (an erased person counts as opted out)"""

    opted_out: bool
    reminders_enabled: bool


def _row(
    now: datetime,
    *,
    channel: str,
    address: str,
    body: str,
    segments: int = 1,
    beneficiary_id: int | None = None,
    dedupe_key: str | None = None,
    not_after: datetime | None = None,
    send_after: datetime | None = None,
    broadcast_id: int | None = None,
) -> dict[str, Any]:
    return {
        "channel": channel,
        "address": address,
        "body": body,
        "segments": segments,
        "beneficiary_id": beneficiary_id,
        "dedupe_key": dedupe_key,
        "not_after": not_after,
        "broadcast_id": broadcast_id,
        "status": S.QUEUED.value,
        "attempts": 0,
        "next_attempt_at": max(send_after or now, now),
        "created_at": now,
        "updated_at": now,
    }


def _insert_ignoring_duplicates(session: Session) -> Any:
    # ON CONFLICT DO NOTHING on the unique dedupe_key: the database, not a prior SELECT,
    # decides, so two planners racing on the same reminder still produce one row.
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    return dialect.insert(_TABLE).on_conflict_do_nothing(index_elements=["dedupe_key"])


def enqueue(
    session: Session,
    *,
    channel: str,
    address: str,
    body: str,
    now: datetime,
    beneficiary_id: int | None = None,
    dedupe_key: str | None = None,
    not_after: datetime | None = None,
    send_after: datetime | None = None,
    broadcast_id: int | None = None,
    segments: int = 1,
) -> int | None:
    """Queue one message; returns its id, or None when the dedupe_key was already queued."""
    row = _row(
        now,
        channel=channel,
        address=address,
        body=body,
        segments=segments,
        beneficiary_id=beneficiary_id,
        dedupe_key=dedupe_key,
        not_after=not_after,
        send_after=send_after,
        broadcast_id=broadcast_id,
    )
    stmt = _insert_ignoring_duplicates(session).values(**row).returning(_TABLE.c.id)
    return session.execute(stmt).scalar_one_or_none()


_ENQUEUE_KEYS = frozenset(
    (
        "channel",
        "address",
        "body",
        "segments",
        "beneficiary_id",
        "dedupe_key",
        "not_after",
        "send_after",
        "broadcast_id",
    )
)
_ENQUEUE_COLUMNS = (
    "channel, address, body, segments, beneficiary_id, dedupe_key, not_after, broadcast_id, "
    "status, attempts, next_attempt_at, created_at, updated_at"
)


def enqueue_many(session: Session, rows: Iterable[Mapping[str, Any]], *, now: datetime) -> int:
    """Queue many messages (keyword dicts as for `enqueue`); duplicates of a dedupe_key are
    skipped. Returns how many rows were new.

    The hot path of a broadcast (100,000 rows): the values are formatted once (a datetime
    shared by many rows is converted once) and handed to the driver in one executemany
    (SQLite) or one COPY into a temporary table and one INSERT … SELECT (PostgreSQL),
    without SQLAlchemy's per-row parameter processing."""
    dialect = session.get_bind().dialect
    to_db = _TABLE.c.created_at.type.dialect_impl(dialect).bind_processor(dialect) or _same
    converted: dict[datetime, Any] = {}

    def at(moment: datetime | None) -> Any:
        if moment is None:
            return None
        value = converted.get(moment)
        if value is None:
            value = converted[moment] = to_db(moment)
        return value

    stamp = at(now)
    params = []
    for row in rows:
        if not _ENQUEUE_KEYS.issuperset(row):
            raise TypeError(f"unknown outbox fields: {sorted(set(row) - _ENQUEUE_KEYS)}")
        send_after = row.get("send_after")
        params.append(
            (
                row["channel"],
                row["address"],
                row["body"],
                row.get("segments", 1),
                row.get("beneficiary_id"),
                row.get("dedupe_key"),
                at(row.get("not_after")),
                row.get("broadcast_id"),
                S.QUEUED.value,
                0,
                stamp if send_after is None or send_after <= now else at(send_after),
                stamp,
                stamp,
            )
        )
    if not params:
        return 0
    if dialect.name == "sqlite":
        return _insert_sqlite(session, params)
    return _insert_postgresql(session, params)


def _insert_sqlite(session: Session, params: list[tuple[Any, ...]]) -> int:
    sql = (
        f"INSERT INTO outboundmessage ({_ENQUEUE_COLUMNS}) VALUES ({', '.join('?' * 13)}) "
        "ON CONFLICT (dedupe_key) DO NOTHING"
    )
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(sql, params)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _insert_postgresql(session: Session, params: list[tuple[Any, ...]]) -> int:
    """COPY into a temporary table (dropped at commit), then one INSERT … SELECT: faster than
    an executemany, and its rowcount says how many were new."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE outbox_incoming ON COMMIT DROP AS "
            f"SELECT {_ENQUEUE_COLUMNS} FROM outboundmessage WITH NO DATA"
        )
        with cursor.copy(f"COPY outbox_incoming ({_ENQUEUE_COLUMNS}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO outboundmessage ({_ENQUEUE_COLUMNS}) "
            f"SELECT {_ENQUEUE_COLUMNS} FROM outbox_incoming "
            "ON CONFLICT (dedupe_key) DO NOTHING"
        )
        count = int(cursor.rowcount)
        cursor.execute("DROP TABLE outbox_incoming")
        return count
    finally:
        cursor.close()


def _due(channel: str, now: datetime) -> Any:
    return and_(
        Msg.channel == channel,
        Msg.status == S.QUEUED.value,
        Msg.next_attempt_at <= now,  # type: ignore[operator]
    )


def _abandoned(channel: str, now: datetime) -> Any:
    # Only rows whose provider call never began: the others may have gone out (claim_unconfirmed).
    return and_(
        Msg.channel == channel,
        Msg.status == S.SENDING.value,
        Msg.claimed_until < now,  # type: ignore[operator]
        Msg.attempt_started_at.is_(None),  # type: ignore[union-attr]
    )


_CLAIMED_COLUMNS = (
    Msg.id,
    Msg.channel,
    Msg.address,
    Msg.body,
    Msg.segments,
    Msg.attempts,
    Msg.beneficiary_id,
    Msg.dedupe_key,
    Msg.not_after,
    Msg.claimed_until,
    Msg.attempt_started_at,
)


_RETURNED = (
    "id, channel, address, body, segments, attempts, beneficiary_id, dedupe_key, not_after, "
    "claimed_until, attempt_started_at"
)
_CLAIM = (
    "UPDATE outboundmessage SET status = 'sending', claimed_until = :until, "
    "attempts = attempts + 1, updated_at = :now WHERE id IN ({pick}) RETURNING " + _RETURNED
)
# The picks: each walks ix_outbound_claim (channel, status, next_attempt_at, id) in order and
# stops after :limit rows. Abandoned: rows whose provider call never began (a worker died before
# it); the others may have gone out (claim_unconfirmed).
_PICK_ABANDONED = (
    "SELECT id FROM outboundmessage WHERE channel = :channel AND status = 'sending' "
    "AND claimed_until < :now AND attempt_started_at IS NULL ORDER BY id LIMIT :limit"
)
_PICK_DUE = (
    "SELECT id FROM outboundmessage WHERE channel = :channel AND status = 'queued' "
    "AND next_attempt_at <= :now ORDER BY next_attempt_at, id LIMIT :limit"
)


def _driver_sql(sql: str, dialect: str) -> str:
    """`:name` parameters in the driver's own style (sqlite3: named; psycopg: pyformat)."""
    if dialect == "sqlite":
        return sql
    return re.sub(r":([a-z_][a-z_0-9]*)", r"%(\1)s", sql)


_CLAIM_SQL = {
    (dialect, pick_name): _driver_sql(
        _CLAIM.format(pick=pick + ("" if dialect == "sqlite" else " FOR UPDATE SKIP LOCKED")),
        dialect,
    )
    for dialect in ("sqlite", "postgresql")
    for pick_name, pick in (("abandoned", _PICK_ABANDONED), ("due", _PICK_DUE))
}


def claim_batch(
    engine: Engine, *, channel: str, limit: int, now: datetime, claim_for: timedelta
) -> list[Claimed]:
    """Atomically take up to `limit` due rows of a channel (committed before returning):
    first rows abandoned before their provider call (a worker died), then queued rows in
    `next_attempt_at` order. Each pick walks the index `ix_outbound_claim` and stops after
    `limit` rows, so a claim costs the same with a backlog of a million rows as with a
    hundred; SQL written once per dialect, run on the driver's cursor (`FOR UPDATE SKIP
    LOCKED` on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE)."""
    dialect = "sqlite" if is_sqlite(engine) else "postgresql"
    to_db, from_db = _time_converters(engine)
    params = {"channel": channel, "now": to_db(now), "until": to_db(now + claim_for)}
    with unit_of_work(engine) as session:
        cursor = session.connection().connection.cursor()
        try:
            cursor.execute(_CLAIM_SQL[dialect, "abandoned"], {**params, "limit": limit})
            rows = cursor.fetchall()
            if len(rows) < limit:
                cursor.execute(_CLAIM_SQL[dialect, "due"], {**params, "limit": limit - len(rows)})
                rows += cursor.fetchall()
        finally:
            cursor.close()
        session.commit()
    return sorted((_claimed(row, from_db) for row in rows), key=lambda c: c.id)


def _claimed(row: Any, from_db: Callable[[Any], Any]) -> Claimed:
    *first, not_after, claimed_until, attempt_started_at = row
    return Claimed(
        *first,
        not_after=from_db(not_after),
        claimed_until=from_db(claimed_until),
        attempt_started_at=from_db(attempt_started_at),
    )


def _time_converters(engine: Engine) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(to the driver, from the driver) for UTCDateTime values, as SQLAlchemy would convert
    them (SQLite: naive UTC text; PostgreSQL: aware datetimes)."""
    converters = _CONVERTERS.get(engine.dialect.name)
    if converters is None:
        column_type = _TABLE.c.updated_at.type.dialect_impl(engine.dialect)
        to_db = column_type.bind_processor(engine.dialect) or _same
        raw = column_type.result_processor(engine.dialect, None) or _same

        def from_db(value: Any) -> Any:
            return None if value is None else raw(value)

        converters = _CONVERTERS[engine.dialect.name] = (to_db, from_db)
    return converters


def _same(value: Any) -> Any:
    return value


_CONVERTERS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {}


def claim_unconfirmed(
    engine: Engine, *, channel: str, limit: int, now: datetime, claim_for: timedelta
) -> list[Claimed]:
    """Take rows whose provider call began under a claim that has since expired (the worker
    died during the call): "sent, unconfirmed", for reconciliation. The attempt is not
    counted again; the new claim keeps two reconcilers apart."""
    stale = and_(
        Msg.channel == channel,
        Msg.status == S.SENDING.value,
        Msg.claimed_until < now,  # type: ignore[operator]
        Msg.attempt_started_at.is_not(None),
    )  # type: ignore[union-attr]
    pick = select(Msg.id).where(stale).order_by(Msg.id).limit(limit)
    if not is_sqlite(engine):
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(Msg)
        .where(Msg.id.in_(pick.scalar_subquery()))  # type: ignore[union-attr]
        .values(claimed_until=now + claim_for, updated_at=now)
        .returning(*_CLAIMED_COLUMNS)
    )
    with unit_of_work(engine) as session:
        rows = session.execute(stmt).all()
        session.commit()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


@dataclass(frozen=True)
class DailyCap:
    """A channel's spending limit for one local day. `{"day": "2026-11-30", "limit": 2000,
    "since": "2026-11-29T23:00:00+00:00"}` (`since`: that day's local midnight, in UTC)."""

    day: date
    limit: int
    since: datetime


@dataclass(frozen=True)
class Wave:
    """`begin_wave`'s answer: the rows now "attempt started" (send them), and the rows the
    daily cap left out (still claimed, not started: defer them)."""

    started: list[Claimed]
    over_cap: list[Claimed]


def start_attempts(engine: Engine, messages: list[Claimed], *, now: datetime) -> list[Claimed]:
    """Commit "provider call begins" for claimed rows of one claim; returns those still ours.
    A row whose claim expired and was taken by another worker is left out: it must not be
    sent by us."""
    return begin_wave(engine, messages, now=now).started


def begin_wave(
    engine: Engine, messages: list[Claimed], *, now: datetime, cap: DailyCap | None = None
) -> Wave:
    """`start_attempts`, and with a `cap`, the spend of the rows started added to the day's
    counter in the same transaction: the counter row is locked (PostgreSQL: FOR UPDATE;
    SQLite: the write lock of BEGIN IMMEDIATE) while the rows that fit are chosen, so two
    dispatchers, whatever their processes, never spend more than the cap between them. The
    rows that fit are a prefix of `messages`; the others come back in `over_cap`."""
    if not messages:
        return Wave([], [])
    with unit_of_work(engine) as session:
        allowed, over_cap = messages, []
        if cap is not None:
            left = cap.limit - _locked_spend(session, messages[0].channel, cap)
            allowed = []
            for message in messages:
                if message.segments > left:
                    break
                left -= message.segments
                allowed.append(message)
            over_cap = messages[len(allowed) :]
        started = _start(session, engine, allowed, now) if allowed else set()
        ours = [m for m in allowed if m.id in started]
        if cap is not None and ours:
            _add_spend(session, messages[0].channel, cap.day, sum(m.segments for m in ours))
        session.commit()
    return Wave(ours, over_cap)


_START = (
    "UPDATE outboundmessage SET attempt_started_at = :now, updated_at = :now "
    "WHERE id IN ({ids}) AND status = 'sending' AND claimed_until = :until "
    "AND attempt_started_at IS NULL RETURNING id"
)
_START_CHUNK = 500  # ids per statement (SQLite allows 32,766 parameters)


def _start(session: Session, engine: Engine, messages: list[Claimed], now: datetime) -> set[int]:
    """Mark "attempt started" on the rows still under this claim; returns their ids."""
    to_db, _ = _time_converters(engine)
    params: dict[str, Any] = {"now": to_db(now), "until": to_db(messages[0].claimed_until)}
    started: set[int] = set()
    cursor = session.connection().connection.cursor()
    try:
        for first in range(0, len(messages), _START_CHUNK):
            chunk = messages[first : first + _START_CHUNK]
            names = [f"m{i}" for i in range(len(chunk))]
            sql = _START.format(ids=", ".join(":" + name for name in names))
            params.update(zip(names, (m.id for m in chunk), strict=True))
            cursor.execute(_driver_sql(sql, engine.dialect.name), params)
            started.update(row[0] for row in cursor.fetchall())
    finally:
        cursor.close()
    return started


def spent_on(session: Session, *, channel: str, cap: DailyCap) -> int:
    """Segments spent on the cap's day so far (a read, for deciding how much to claim)."""
    counted = session.scalar(
        select(Spend.segments).where(Spend.channel == channel, Spend.day == cap.day)
    )
    return int(counted) if counted is not None else _first_count(session, channel, cap)


def refund_spend(session: Session, *, channel: str, day: date, segments: int) -> None:
    """Give back segments reserved for calls known not to have gone out (a refusal, a
    temporary failure, no provider, not found at the provider after a crash)."""
    if segments:
        _add_spend(session, channel, day, -segments)


def _locked_spend(session: Session, channel: str, cap: DailyCap) -> int:
    """The day's counter, its row locked until the transaction ends (created if needed)."""
    counter = select(Spend.segments).where(Spend.channel == channel, Spend.day == cap.day)
    if session.get_bind().dialect.name != "sqlite":
        counter = counter.with_for_update()
    counted = session.scalar(counter)
    if counted is None:
        first = _first_count(session, channel, cap)
        dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
        session.execute(
            dialect.insert(_SPEND)
            .values(channel=channel, day=cap.day, segments=first)
            .on_conflict_do_nothing(index_elements=["channel", "day"])
        )
        counted = session.scalar(counter)  # another dispatcher's row if it came first
    return int(counted or 0)


def _first_count(session: Session, channel: str, cap: DailyCap) -> int:
    """A day without a counter row starts at 0, except on the first day ever (the day this
    counter was installed), which starts from the sent history."""
    any_day = session.scalar(select(Spend.day).where(Spend.channel == channel).limit(1))
    if any_day is not None:
        return 0
    return segments_sent_since(session, channel=channel, since=cap.since)


def _add_spend(session: Session, channel: str, day: date, segments: int) -> None:
    # never below zero: a refund for a call started without the counter (before it existed)
    total = Spend.segments + segments
    session.execute(
        update(Spend)
        .where(Spend.channel == channel, Spend.day == day)  # type: ignore[arg-type]
        .values(segments=case((total > 0, total), else_=0))
    )


def _finish(session: Session, message_id: int, now: datetime, **values: Any) -> bool:
    # Only a row still in `sending` is ours to finish: a late worker whose claim expired
    # and was taken over must not overwrite the newer outcome.
    result = session.execute(
        update(Msg)
        .where(Msg.id == message_id, Msg.status == S.SENDING.value)
        .values(updated_at=now, claimed_until=None, attempt_started_at=None, **values)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def mark_sent(
    session: Session,
    message_id: int,
    *,
    provider_id: str | None,
    now: datetime,
    error: str | None = None,
) -> bool:
    return _finish(
        session, message_id, now, status=S.SENT.value, provider_id=provider_id, error=error
    )


_MARK_SENT = (
    "UPDATE outboundmessage SET status = 'sent', provider_id = :pid, updated_at = :now, "
    "claimed_until = NULL, attempt_started_at = NULL WHERE id = :mid AND status = 'sending'"
)


def mark_sent_many(session: Session, sent: list[tuple[int, str | None]], *, now: datetime) -> None:
    """`mark_sent` for many (id, provider id) pairs in one executemany on the driver's
    cursor (the hot path: no per-row parameter processing)."""
    if not sent:
        return
    bind = session.get_bind()
    to_db, _ = _time_converters(bind)  # type: ignore[arg-type]
    stamp = to_db(now)
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(
            _driver_sql(_MARK_SENT, bind.dialect.name),
            [{"mid": mid, "pid": pid, "now": stamp} for mid, pid in sent],
        )
    finally:
        cursor.close()


def mark_failed(session: Session, message_id: int, *, error: str, now: datetime) -> bool:
    return _finish(session, message_id, now, status=S.FAILED.value, error=error[:500])


def mark_cancelled(session: Session, message_id: int, *, reason: str, now: datetime) -> bool:
    return _finish(session, message_id, now, status=S.CANCELLED.value, error=reason[:500])


def mark_retry(
    session: Session, message_id: int, *, at: datetime, error: str, now: datetime
) -> bool:
    """Back to the queue after a temporary failure; the attempt counts."""
    return _finish(
        session, message_id, now, status=S.QUEUED.value, next_attempt_at=at, error=error[:500]
    )


def mark_deferred(
    session: Session, message_id: int, *, at: datetime, reason: str, now: datetime
) -> bool:
    """Back to the queue without having tried (no provider, daily cap): the claim's attempt
    is given back so a long wait never exhausts the retries."""
    return _finish(
        session,
        message_id,
        now,
        status=S.QUEUED.value,
        next_attempt_at=at,
        error=reason[:500],
        attempts=Msg.attempts - 1,
    )


def cancel_expired(session: Session, *, now: datetime) -> int:
    """Cancel queued rows past their `not_after`: a late reminder is worse than none."""
    result = session.execute(
        update(Msg)
        .where(Msg.status == S.QUEUED.value, Msg.not_after < now)  # type: ignore[operator]
        .values(status=S.CANCELLED.value, error="not_after passed", updated_at=now)
    )
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


def apply_status_callback(
    session: Session, *, provider_id: str, status: str, now: datetime, error: str | None = None
) -> bool:
    """A provider's delivery report; statuses only move forward (a late `sent` after
    `delivered` is ignored). Unknown statuses (queued, accepted, sending…) change nothing."""
    target = _PROVIDER_STATUS.get(status.lower())
    if target is None:
        return False
    lower = [s.value for s, rank in _RANK.items() if rank < _RANK[target]]
    values: dict[str, Any] = {"status": target.value, "updated_at": now}
    if error:
        values["error"] = error[:500]
    result = session.execute(
        update(Msg)
        .where(Msg.provider_id == provider_id, Msg.status.in_(lower))  # type: ignore[attr-defined]
        .values(**values)
    )
    return result.rowcount > 0  # type: ignore[attr-defined, no-any-return]


def segments_sent_since(session: Session, *, channel: str, since: datetime) -> int:
    """Segments handed to the provider since `since`, read from the sent history: where the
    daily cap's counter starts on its first day (`spent_on`). Rows whose call began count."""
    handed = or_(
        Msg.status.in_([S.SENT.value, S.DELIVERED.value]),  # type: ignore[attr-defined]
        and_(Msg.status == S.SENDING.value, Msg.attempt_started_at.is_not(None)),  # type: ignore[union-attr]
    )
    total = session.scalar(
        select(func.coalesce(func.sum(Msg.segments), 0)).where(
            Msg.channel == channel,
            handed,
            Msg.updated_at >= since,  # type: ignore[operator]
        )
    )
    return int(total or 0)


def has_due(session: Session, *, channel: str, now: datetime) -> bool:
    """Whether anything of this channel is waiting to be sent."""
    for pick in (_due(channel, now), _abandoned(channel, now)):
        if session.scalar(select(Msg.id).where(pick).limit(1)) is not None:
            return True
    return False


def count_by_status(session: Session, *, channel: str | None = None) -> dict[str, int]:
    query = select(Msg.status, func.count()).group_by(Msg.status)
    if channel is not None:
        query = query.where(Msg.channel == channel)
    return {status: count for status, count in session.execute(query).all()}


def purge_bodies(session: Session, *, before: datetime, now: datetime) -> int:
    """Forget the text of finished messages created before `before` (data retention)."""
    done = [S.SENT.value, S.DELIVERED.value, S.FAILED.value, S.CANCELLED.value]
    result = session.execute(
        update(Msg)
        .where(
            Msg.created_at < before,
            Msg.status.in_(done),  # type: ignore[operator, attr-defined]
            Msg.body.is_not(None),
        )  # type: ignore[union-attr]
        .values(body=None, updated_at=now)
    )
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


def recipient_flags(session: Session, beneficiary_ids: Iterable[int]) -> dict[int, RecipientFlags]:
    """Whether each beneficiary may still be written to, read at send time."""
    ids = sorted(set(beneficiary_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            Beneficiary.id,
            Beneficiary.opted_out,
            Beneficiary.reminders_enabled,
            Beneficiary.erased_at,
        ).where(Beneficiary.id.in_(ids))
    ).all()  # type: ignore[union-attr]
    return {
        row[0]: RecipientFlags(opted_out=row[1] or row[3] is not None, reminders_enabled=row[2])
        for row in rows
    }
