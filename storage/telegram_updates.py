"""Telegram updates kept in the database between Telegram's delivery and our answer.

Telegram does not resend an update it got a 200 for, so the webhook (and the poller, before
it confirms an offset) stores the update first; a worker then claims pending updates one at a
time, oldest first, never overtaking an earlier pending update of the same chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session

from storage.models import TelegramUpdate, TelegramUpdateStatus

__all__ = [
    "ClaimedUpdate",
    "claim_next_update",
    "finish_update",
    "purge_processed_updates",
    "retry_update_later",
    "store_update",
]

_table = TelegramUpdate.__table__  # type: ignore[attr-defined]
PENDING = TelegramUpdateStatus.PENDING.value


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_table)


@dataclass(frozen=True)
class ClaimedUpdate:
    """A stored update this worker may process until `claimed_until`."""

    update_id: int
    payload: str
    attempts: int


def store_update(
    session: Session, *, update_id: int, chat_id: int | None, payload: str, now: datetime
) -> bool:
    """Keep the update for processing; False when this update id was already stored."""
    inserted = session.execute(
        _insert(session)
        .values(
            update_id=update_id,
            chat_id=chat_id,
            payload=payload,
            status=PENDING,
            attempts=0,
            received_at=now,
            next_attempt_at=now,
        )
        .on_conflict_do_nothing(index_elements=[_table.c.update_id])
        .returning(_table.c.update_id)
    ).scalar()
    return inserted is not None


def claim_next_update(session: Session, *, now: datetime, lease: timedelta) -> ClaimedUpdate | None:
    """The oldest due pending update whose chat has no earlier pending one, claimed for `lease`.

    The claim is a conditional UPDATE, so two workers never both win the same update."""
    earlier = aliased(TelegramUpdate)
    candidate = session.execute(
        select(_table.c.update_id)
        .where(
            _table.c.status == PENDING,
            _table.c.next_attempt_at <= now,
            or_(_table.c.claimed_until.is_(None), _table.c.claimed_until < now),
            ~exists().where(
                and_(
                    earlier.chat_id == _table.c.chat_id,
                    earlier.status == PENDING,
                    earlier.update_id < _table.c.update_id,
                )
            ),
        )
        .order_by(_table.c.update_id)
        .limit(1)
    ).scalar()
    if candidate is None:
        return None
    claimed = session.execute(
        update(_table)
        .where(
            _table.c.update_id == candidate,
            _table.c.status == PENDING,
            or_(_table.c.claimed_until.is_(None), _table.c.claimed_until < now),
        )
        .values(claimed_until=now + lease, attempts=_table.c.attempts + 1)
        .returning(_table.c.update_id, _table.c.payload, _table.c.attempts)
    ).one_or_none()
    if claimed is None:
        return None
    return ClaimedUpdate(claimed.update_id, claimed.payload or "null", claimed.attempts)


def finish_update(session: Session, *, update_id: int, failed: bool, now: datetime) -> None:
    """Processed (or given up on): never claimed again; the payload is forgotten at once."""
    status = TelegramUpdateStatus.FAILED if failed else TelegramUpdateStatus.DONE
    session.execute(
        update(_table)
        .where(_table.c.update_id == update_id)
        .values(status=status.value, payload=None, claimed_until=None, processed_at=now)
    )


def retry_update_later(session: Session, *, update_id: int, at: datetime) -> None:
    """A passing failure (the database): release the claim, try again from `at`."""
    session.execute(
        update(_table)
        .where(_table.c.update_id == update_id, _table.c.status == PENDING)
        .values(claimed_until=None, next_attempt_at=at)
    )


def purge_processed_updates(session: Session, *, before: datetime) -> int:
    """Forget processed and failed updates received before `before` (their ids dedupe no more)."""
    result = session.execute(
        delete(_table).where(_table.c.status != PENDING, _table.c.received_at < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
