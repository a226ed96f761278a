"""Conversation state by channel address, and inbound messages deduplicated by provider id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import Conversation, InboundMessage

__all__ = ["load_state", "save_state", "record_inbound", "InboundRecord"]


def load_state(session: Session, *, address: str) -> dict[str, Any] | None:
    row = session.get(Conversation, address)
    return dict(row.state) if row is not None else None


def save_state(session: Session, *, address: str, state: dict[str, Any], now: datetime) -> None:
    row = session.get(Conversation, address)
    if row is None:
        session.add(Conversation(address=address, state=state, updated_at=now))
    else:
        row.state = state
        row.updated_at = now
        session.add(row)
    session.flush()


class InboundRecord:
    """The stored inbound message and whether this delivery is a repeat of one already seen."""

    def __init__(self, message: InboundMessage, duplicate: bool) -> None:
        self.message = message
        self.duplicate = duplicate


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
    processes still give one winner: the loser's INSERT fails and it reads the winner's row.
    """
    existing = _find(session, channel, provider_id)
    if existing is not None:
        return InboundRecord(existing, duplicate=True)
    message = InboundMessage(
        channel=channel, provider_id=provider_id, address=address, body=body, received_at=now
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        found = _find(session, channel, provider_id)
        assert found is not None
        return InboundRecord(found, duplicate=True)
    return InboundRecord(message, duplicate=False)


def _find(session: Session, channel: str, provider_id: str) -> InboundMessage | None:
    return session.scalar(
        select(InboundMessage).where(
            InboundMessage.channel == channel, InboundMessage.provider_id == provider_id
        )
    )
