"""Conversation state by channel address, and inbound messages deduplicated by provider id.

These run on every inbound message, so they are single Core statements (an upsert, an
INSERT … ON CONFLICT DO NOTHING), not ORM loads: see `passnum bench`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import Conversation, InboundMessage

__all__ = [
    "InboundRecord",
    "dialect_insert",
    "load_state",
    "record_inbound",
    "save_inbound_reply",
    "save_reply_left_to_send",
    "save_state",
]

_conversation = Conversation.__table__  # type: ignore[attr-defined]
_inbound = InboundMessage.__table__  # type: ignore[attr-defined]


def dialect_insert(session: Session, table: Any) -> Any:
    """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share the syntax)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def load_state(session: Session, *, address: str) -> dict[str, Any] | None:
    state = session.scalar(select(_conversation.c.state).where(_conversation.c.address == address))
    return dict(state) if state is not None else None


def save_state(session: Session, *, address: str, state: dict[str, Any], now: datetime) -> None:
    statement = dialect_insert(session, _conversation).values(
        address=address, state=state, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_conversation.c.address],
            set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
        )
    )


@dataclass(frozen=True)
class InboundRecord:
    """The stored inbound message's id, and whether this delivery repeats one already seen
    (then `reply` is the answer given the first time)."""

    id: int
    duplicate: bool
    reply: str | None = None


def record_inbound(
    session: Session,
    *,
    channel: str,
    provider_id: str,
    address: str,
    body: str | None,
    now: datetime,
) -> InboundRecord:
    """Store an inbound message first; a provider id seen before is reported as a duplicate.

    The unique (channel, provider_id) constraint decides, so two deliveries racing in two
    processes still give one winner: on PostgreSQL the loser's INSERT waits for the winner's
    commit, then does nothing, and the loser reads the winner's row.
    """
    inserted = session.execute(
        dialect_insert(session, _inbound)
        .values(
            channel=channel, provider_id=provider_id, address=address, body=body, received_at=now
        )
        .on_conflict_do_nothing(index_elements=[_inbound.c.channel, _inbound.c.provider_id])
        .returning(_inbound.c.id)
    ).scalar()
    if inserted is not None:
        return InboundRecord(inserted, duplicate=False)
    first = session.execute(
        select(_inbound.c.id, _inbound.c.reply).where(
            _inbound.c.channel == channel, _inbound.c.provider_id == provider_id
        )
    ).one()
    return InboundRecord(first.id, duplicate=True, reply=first.reply)


def save_inbound_reply(session: Session, *, inbound_id: int, reply: str | None) -> None:
    session.execute(update(_inbound).where(_inbound.c.id == inbound_id).values(reply=reply))


def save_reply_left_to_send(
    session: Session, *, channel: str, provider_id: str, reply: str | None
) -> None:
    """Telegram keeps in `reply` the answers not yet sent (None once all are): a delivery
    processed again after a crash sends what is left, not the whole answer nor nothing."""
    session.execute(
        update(_inbound)
        .where(_inbound.c.channel == channel, _inbound.c.provider_id == provider_id)
        .values(reply=reply)
    )
