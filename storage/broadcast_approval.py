"""The two-person rule for broadcasts: when one needs a second staff member, and who may be it.

Why: one person could otherwise reach thousands (an SMS costs money and a scam sent "from the
metropolis" is believed). Two bypasses are closed here (docs/security.md, "Broadcast approval"):

- **Who approves.** Each account leads back to the person who created it while it is less than
  a day old (`Staff.created_by`, the operator — bootstrap token or shell — when None), and on to
  that person's creator if they are new too. The author's chain and the approver's chain must not
  meet: nobody approves their own broadcast, nor one of an account they created in the last day,
  nor one of an account created by the same person in the last day.
- **How many.** A broadcast's count for the threshold is its audience joined with the audiences
  of the broadcasts created in the previous 24 h that overlap it (and those that overlap them):
  six small overlapping broadcasts add up. Drafts and cancelled broadcasts reached nobody and do
  not count; audiences of queued broadcasts are their outbox rows, pending ones are recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlmodel import Session

from storage.broadcast_segments import parse_segment, recipients
from storage.models import Broadcast, Staff
from storage.models import OutboundMessage as Msg
from storage.staff import StaffRefused

__all__ = [
    "FRESH_ACCOUNT",
    "OPERATOR",
    "WINDOW",
    "check_approver",
    "joined_audience",
    "needs_approval",
    "serialise_confirmations",
]

OPERATOR = "operator"
"""The bootstrap token and the shell: one identity for the two-person rule."""
FRESH_ACCOUNT = timedelta(days=1)
WINDOW = timedelta(hours=24)
COUNTED_STATES = ("pending_approval", "queued")
_LOCK_KEY = 7_263_401  # any constant: the advisory lock of "deciding on approval"


def _key(staff_id: int | None) -> str:
    return OPERATOR if staff_id is None else f"staff:{staff_id}"


def _chain(session: Session, staff_id: int | None, now: datetime) -> set[str]:
    """This identity and, while accounts are younger than a day, who created them."""
    chain, current = {_key(staff_id)}, staff_id
    while current is not None:
        member = session.get(Staff, current)
        if member is None or member.created_at < now - FRESH_ACCOUNT:
            break
        creator = _key(member.created_by)
        if creator in chain:
            break
        chain.add(creator)
        current = member.created_by
    return chain


def check_approver(
    session: Session, *, approver_id: int | None, draft: Broadcast, now: datetime
) -> None:
    """StaffRefused unless the approver (a staff id, None for the operator) is independent of
    the broadcast's author."""
    if _key(approver_id) == _key(draft.created_by):
        raise StaffRefused(
            "forbidden", "a broadcast must be approved by someone else than its author"
        )
    if _chain(session, approver_id, now) & _chain(session, draft.created_by, now):
        raise StaffRefused(
            "forbidden",
            "the approver and the author of this broadcast are linked by an account created "
            "less than a day ago: another, independent staff member must approve",
        )


def _audience(session: Session, broadcast: Broadcast, now: datetime) -> set[int]:
    if broadcast.status == "queued":
        rows = session.scalars(
            select(Msg.beneficiary_id).where(Msg.broadcast_id == broadcast.id).distinct()
        )
        return {row for row in rows if row is not None}
    people = recipients(
        session, segment=parse_segment(broadcast.segment), language=broadcast.language, now=now
    )
    return {person for person, _, _ in people}


def joined_audience(
    session: Session, *, people: Iterable[int], now: datetime, exclude: int | None = None
) -> int:
    """How many people this audience and the overlapping ones of the last 24 h reach."""
    joined = set(people)
    recent = session.scalars(
        select(Broadcast).where(
            Broadcast.created_at >= now - WINDOW,
            Broadcast.status.in_(COUNTED_STATES),  # type: ignore[attr-defined]
            Broadcast.id != exclude,
        )
    )
    others = [_audience(session, row, now) for row in recent]
    grown = True
    while grown:  # an audience that overlaps one already joined joins too
        grown = False
        for audience in [a for a in others if a & joined]:
            joined |= audience
            others.remove(audience)
            grown = True
    return len(joined)


def needs_approval(
    session: Session,
    *,
    people: list[tuple[int, str, str]],
    threshold: int,
    now: datetime,
    exclude: int | None = None,
) -> tuple[bool, int]:
    """(whether a second staff member must approve, the count compared with the threshold)."""
    ids = [person for person, _, _ in people]
    if len(set(ids)) > threshold:
        return True, len(set(ids))
    reach = joined_audience(session, people=ids, now=now, exclude=exclude)
    return reach > threshold, reach


def serialise_confirmations(session: Session) -> None:
    """Two confirmations at once would each miss the other's audience: on PostgreSQL they take
    turns (SQLite writers already do)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
