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
Functions take the caller's session and never commit, except `claim_batch`,
`claim_unconfirmed` and `start_attempts`, which must commit before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import is_sqlite, unit_of_work
from storage.models import Beneficiary
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S

__all__ = [
    "Claimed",
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


def enqueue_many(session: Session, rows: Iterable[Mapping[str, Any]], *, now: datetime) -> int:
    """Queue many messages (keyword dicts as for `enqueue`) with one executemany; duplicates
    of a dedupe_key are skipped. Returns the new rows on SQLite; PostgreSQL does not count
    an executemany, so there it returns how many were offered."""
    params = [_row(now, **row) for row in rows]
    if not params:
        return 0
    # No RETURNING: it makes SQLAlchemy send one statement per 1,000 rows and is 4x slower.
    result = session.execute(_insert_ignoring_duplicates(session), params)
    counted = result.rowcount  # type: ignore[attr-defined]
    return counted if counted >= 0 else len(params)


def _claimable(channel: str, now: datetime) -> Any:
    queued = and_(Msg.status == S.QUEUED.value, Msg.next_attempt_at <= now)
    # Only rows whose provider call never began: the others may have gone out (claim_unconfirmed).
    abandoned = and_(
        Msg.status == S.SENDING.value,
        Msg.claimed_until < now,  # type: ignore[operator]
        Msg.attempt_started_at.is_(None),
    )  # type: ignore[union-attr]
    return and_(Msg.channel == channel, or_(queued, abandoned))


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


def claim_batch(
    engine: Engine, *, channel: str, limit: int, now: datetime, claim_for: timedelta
) -> list[Claimed]:
    """Atomically take up to `limit` due rows of a channel (committed before returning)."""
    pick = (
        select(Msg.id)
        .where(_claimable(channel, now))
        .order_by(Msg.next_attempt_at, Msg.id)
        .limit(limit)
    )  # type: ignore[arg-type]
    if not is_sqlite(engine):
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(Msg)
        .where(Msg.id.in_(pick.scalar_subquery()))  # type: ignore[union-attr]
        .values(
            status=S.SENDING.value,
            claimed_until=now + claim_for,
            attempts=Msg.attempts + 1,
            updated_at=now,
        )
        .returning(*_CLAIMED_COLUMNS)
    )
    with unit_of_work(engine) as session:
        rows = session.execute(stmt).all()
        session.commit()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


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


def start_attempts(engine: Engine, messages: list[Claimed], *, now: datetime) -> list[Claimed]:
    """Commit "provider call begins" for claimed rows of one claim; returns those still ours.
    A row whose claim expired and was taken by another worker is left out: it must not be
    sent by us."""
    if not messages:
        return []
    stmt = (
        update(Msg)
        .where(
            Msg.id.in_([m.id for m in messages]),  # type: ignore[union-attr]
            Msg.status == S.SENDING.value,
            Msg.claimed_until == messages[0].claimed_until,
            Msg.attempt_started_at.is_(None),
        )  # type: ignore[union-attr]
        .values(attempt_started_at=now, updated_at=now)
        .returning(Msg.id)
    )
    with unit_of_work(engine) as session:
        started = set(session.scalars(stmt))
        session.commit()
    return [m for m in messages if m.id in started]


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


def mark_sent_many(session: Session, sent: list[tuple[int, str | None]], *, now: datetime) -> None:
    """`mark_sent` for many (id, provider id) pairs in one executemany (the hot path)."""
    if not sent:
        return
    stmt = (
        update(_TABLE)
        .where(_TABLE.c.id == bindparam("mid"), _TABLE.c.status == S.SENDING.value)
        .values(
            status=S.SENT.value,
            provider_id=bindparam("pid"),
            updated_at=now,
            claimed_until=None,
            attempt_started_at=None,
        )
    )
    session.connection().execute(stmt, [{"mid": mid, "pid": pid} for mid, pid in sent])


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
    """SMS segments handed to the provider since `since` (for the daily cap). Rows being
    sent count too, so two workers cannot both spend the last of the cap."""
    spent = [S.SENDING.value, S.SENT.value, S.DELIVERED.value]
    total = session.scalar(
        select(func.coalesce(func.sum(Msg.segments), 0)).where(
            Msg.channel == channel,
            Msg.status.in_(spent),  # type: ignore[attr-defined]
            Msg.updated_at >= since,
        )
    )  # type: ignore[operator]
    return int(total or 0)


def has_due(session: Session, *, channel: str, now: datetime) -> bool:
    """Whether anything of this channel is waiting to be sent."""
    return session.scalar(select(Msg.id).where(_claimable(channel, now)).limit(1)) is not None


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
