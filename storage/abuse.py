"""Inbound flood limits, counted in the database so they hold across processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import InboundMessage

__all__ = ["InboundLimits", "inbound_allowed"]


@dataclass(frozen=True)
class InboundLimits:
    """Beyond these, a message is stored but gets no reply (a reply costs money, and an
    SMS-pumping attack is paid by the answers it provokes)."""

    per_address: int = 30  # messages from one address per window
    per_address_window: timedelta = timedelta(hours=1)
    unknown_global: int = 300  # messages from unknown addresses, all together, per window
    unknown_global_window: timedelta = timedelta(minutes=10)


def _count_since(session: Session, since: datetime, address: str | None = None) -> int:
    query = (
        select(func.count()).select_from(InboundMessage).where(InboundMessage.received_at >= since)
    )
    if address is not None:
        query = query.where(InboundMessage.address == address)
    return int(session.scalar(query) or 0)


def inbound_allowed(
    session: Session, *, address: str, known: bool, now: datetime, limits: InboundLimits
) -> bool:
    """Whether the message just recorded (it counts itself) may be answered."""
    if _count_since(session, now - limits.per_address_window, address) > limits.per_address:
        return False
    if known:
        return True
    recent = _count_since(session, now - limits.unknown_global_window)
    return recent <= limits.unknown_global
