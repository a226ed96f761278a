"""Reading broadcasts: one with its delivery counts, the latest ones, the place one is about.

Who may see which broadcast is the staff handlers' rule (`bot.staff.broadcasts`), not decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import Broadcast
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S

__all__ = ["Report", "broadcast_report", "latest_broadcasts"]


@dataclass(frozen=True)
class Report:
    """A broadcast and its outbox rows by status. `{"id": 4, "status": "queued",
    "recipients": 2000, "counts": {"queued": 10, "sent": 1990}, "finished": false,
    "opted_out": 0, ...}`; finished: queued or cancelled, and nothing left waiting or being
    sent; opted_out: messages not sent because the person opted out in the meantime."""

    id: int
    segment: str
    message: str
    language: str | None
    status: str
    send_at: datetime | None
    created_by: int | None
    approved_by: int | None
    recipients: int
    counts: dict[str, int]
    finished: bool
    opted_out: int


def broadcast_report(session: Session, broadcast: Broadcast) -> Report:
    """The broadcast and its delivery counts (queued, sending, sent, delivered, failed…)."""
    counts: dict[str, int] = {
        str(status): int(count)
        for status, count in session.execute(
            select(Msg.status, func.count())
            .where(Msg.broadcast_id == broadcast.id)
            .group_by(Msg.status)
        ).all()
    }
    pending = counts.get(S.QUEUED.value, 0) + counts.get(S.SENDING.value, 0)
    return Report(
        broadcast.id or 0,
        broadcast.segment,
        broadcast.message,
        broadcast.language,
        broadcast.status,
        broadcast.send_at,
        broadcast.created_by,
        broadcast.approved_by,
        broadcast.recipients,
        counts,
        broadcast.status in ("queued", "cancelled") and pending == 0,
        _opted_out(session, broadcast.id),
    )


def _opted_out(session: Session, broadcast_id: int | None) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Msg.broadcast_id == broadcast_id,
                Msg.status == S.CANCELLED.value,
                Msg.error == "opted out",
            )
        )
        or 0
    )


def latest_broadcasts(session: Session, *, limit: int) -> list[Broadcast]:
    """The latest broadcasts, newest first."""
    return list(session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))
