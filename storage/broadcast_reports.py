"""Reading broadcasts: who may see one, its delivery report, the latest ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from storage.broadcast_segments import parse_segment, segment_place
from storage.models import Broadcast
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S
from storage.staff import StaffIdentity, StaffRefused

__all__ = ["Report", "broadcast_report", "list_broadcasts", "may_see", "visible"]


@dataclass(frozen=True)
class Report:
    """A broadcast and its outbox rows by status. `{"id": 4, "status": "queued",
    "recipients": 2000, "counts": {"queued": 10, "sent": 1990}, "finished": false, ...}`"""

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

    @property
    def finished(self) -> bool:
        pending = self.counts.get(S.QUEUED.value, 0) + self.counts.get(S.SENDING.value, 0)
        return self.status in ("queued", "cancelled") and pending == 0


def broadcast_report(session: Session, *, staff: StaffIdentity, broadcast_id: int) -> Report:
    """The broadcast and its delivery counts (queued, sending, sent, delivered, failed…)."""
    draft = visible(session, staff, broadcast_id)
    counts: dict[str, int] = dict(
        session.execute(
            select(Msg.status, func.count())
            .where(Msg.broadcast_id == draft.id)
            .group_by(Msg.status)
        ).all()
    )
    return Report(
        draft.id or 0,
        draft.segment,
        draft.message,
        draft.language,
        draft.status,
        draft.send_at,
        draft.created_by,
        draft.approved_by,
        draft.recipients,
        {str(k): int(v) for k, v in counts.items()},
    )


def list_broadcasts(session: Session, *, staff: StaffIdentity, limit: int = 50) -> list[Broadcast]:
    """The latest broadcasts this staff member may see."""
    rows = session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit * 4))
    return [row for row in rows if may_see(session, staff, row)][:limit]


def may_see(session: Session, staff: StaffIdentity, draft: Broadcast) -> bool:
    """Admins and the author see a broadcast; advisors, those to a slot or place of theirs."""
    if staff.is_admin or (staff.id is not None and draft.created_by == staff.id):
        return True
    try:
        place_id = segment_place(session, parse_segment(draft.segment))
    except StaffRefused:
        return False
    return place_id is not None and staff.can_see_place(place_id)


def visible(session: Session, staff: StaffIdentity, broadcast_id: int) -> Broadcast:
    """The broadcast, or StaffRefused when it does not exist or is not this staff's to see."""
    draft = session.get(Broadcast, broadcast_id)
    if draft is None:
        raise StaffRefused("not_found", f"no broadcast {broadcast_id}")
    if not may_see(session, staff, draft):
        raise StaffRefused("forbidden", f"broadcast {broadcast_id} is not to one of your places")
    return draft
