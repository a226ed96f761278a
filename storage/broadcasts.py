"""Broadcasts: a message to a segment of beneficiaries, through the outbox.

Life of a broadcast: `draft` (composed, previewed) → confirmed → `queued` (its outbox rows exist,
the dispatcher sends them with pacing and quiet hours), or `pending_approval` first when it
reaches more people than the approval threshold (with the overlapping broadcasts of the last
24 h), until a second, independent staff member approves (storage.broadcast_approval).
`cancelled` at any point: outbox rows not yet claimed are cancelled with it.

Recipients go in with one bulk insert (100,000 in seconds); each row's dedupe key
`broadcast:<id>:<beneficiary>` makes "once each" a database fact. Segments and recipients:
storage.broadcast_segments; preview: storage.broadcast_preview; reports and visibility:
storage.broadcast_reports. Every public name stays importable from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from flows.gsm7 import sms_segments, to_gsm7
from storage.broadcast_approval import check_approver, needs_approval, serialise_confirmations
from storage.broadcast_preview import Preview, preview
from storage.broadcast_reports import Report, broadcast_report, list_broadcasts, visible
from storage.broadcast_segments import Segment, parse_segment, recipients
from storage.models import Broadcast
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S
from storage.outbox import enqueue_many
from storage.staff import StaffIdentity, StaffRefused, actor_of, audit

__all__ = [
    "Preview",
    "Report",
    "Segment",
    "approve_broadcast",
    "broadcast_report",
    "cancel_broadcast",
    "confirm_broadcast",
    "create_broadcast",
    "list_broadcasts",
    "parse_segment",
    "preview",
]

LIVE_STATES = ("draft", "pending_approval", "queued")


def create_broadcast(
    session: Session,
    *,
    staff: StaffIdentity,
    segment: str,
    message: str,
    language: str | None,
    send_at: datetime | None,
    now: datetime,
    price_eur: float,
    threshold: int,
) -> tuple[Broadcast, Preview]:
    """A draft and its preview; nothing is queued before `confirm_broadcast`."""
    seen = preview(
        session,
        staff=staff,
        segment=segment,
        message=message,
        language=language,
        now=now,
        price_eur=price_eur,
        threshold=threshold,
    )
    draft = Broadcast(
        segment=seen.segment,
        message=seen.telegram_text,
        language=language,
        send_at=send_at,
        created_by=staff.id,
        recipients=seen.recipients,
        created_at=now,
    )
    session.add(draft)
    session.flush()
    _audit(session, staff, "broadcast.create", draft, now, f"{seen.recipients} recipients")
    return draft, seen


def confirm_broadcast(
    session: Session, *, staff: StaffIdentity, broadcast_id: int, now: datetime, threshold: int
) -> Broadcast:
    """Queue the draft, or hold it for approval when it reaches many people."""
    draft = visible(session, staff, broadcast_id)
    serialise_confirmations(session)
    people = recipients(
        session, segment=parse_segment(draft.segment), language=draft.language, now=now
    )
    held, reach = needs_approval(
        session, people=people, threshold=threshold, now=now, exclude=draft.id
    )
    if held:
        _move(session, draft, "draft", status="pending_approval", recipients=len(people))
        detail = f"waits for a second approval ({reach} people with the last 24 h)"
        _audit(session, staff, "broadcast.confirm", draft, now, detail)
        return draft
    _queue(session, draft, "draft", people, now)
    _audit(session, staff, "broadcast.confirm", draft, now, f"{len(people)} queued")
    return draft


def approve_broadcast(
    session: Session, *, staff: StaffIdentity, broadcast_id: int, now: datetime
) -> Broadcast:
    """A second, independent staff member (storage.broadcast_approval) lets it go."""
    draft = visible(session, staff, broadcast_id)
    check_approver(session, approver=staff, draft=draft, now=now)
    people = recipients(
        session, segment=parse_segment(draft.segment), language=draft.language, now=now
    )
    _queue(session, draft, "pending_approval", people, now, approved_by=staff.id)
    _audit(session, staff, "broadcast.approve", draft, now, f"{len(people)} queued")
    return draft


def _queue(
    session: Session,
    draft: Broadcast,
    expected: str,
    people: list[tuple[int, str, str]],
    now: datetime,
    **values: Any,
) -> None:
    _move(session, draft, expected, status="queued", recipients=len(people), **values)
    sms = to_gsm7(draft.message)
    texts = {"sms": (sms, sms_segments(sms)), "telegram": (draft.message, 1)}
    enqueue_many(
        session,
        (
            {
                "channel": channel,
                "address": address,
                "body": texts[channel][0],
                "segments": texts[channel][1],
                "beneficiary_id": person,
                "dedupe_key": f"broadcast:{draft.id}:{person}",
                "send_after": draft.send_at,
                "broadcast_id": draft.id,
            }
            for person, channel, address in people
        ),
        now=now,
    )


def _move(session: Session, draft: Broadcast, expected: str, **values: Any) -> None:
    """Change state only from `expected`: two clicks on "confirm" queue it once."""
    moved = session.execute(
        update(Broadcast)
        .where(Broadcast.id == draft.id, Broadcast.status == expected)
        .values(**values)
    )
    if moved.rowcount != 1:
        raise StaffRefused("conflict", f"broadcast {draft.id} is {draft.status}, not {expected}")
    session.refresh(draft)


def cancel_broadcast(
    session: Session, *, staff: StaffIdentity, broadcast_id: int, now: datetime
) -> int:
    """Stop a broadcast; its outbox rows not yet sent are cancelled. Returns how many."""
    draft = visible(session, staff, broadcast_id)
    if draft.status not in LIVE_STATES:
        raise StaffRefused("conflict", f"broadcast {draft.id} is already {draft.status}")
    _move(session, draft, draft.status, status="cancelled")
    stopped = session.execute(
        update(Msg)
        .where(Msg.broadcast_id == draft.id, Msg.status == S.QUEUED.value)
        .values(status=S.CANCELLED.value, error="broadcast cancelled", updated_at=now)
    ).rowcount
    _audit(session, staff, "broadcast.cancel", draft, now, f"{stopped} messages cancelled")
    return int(stopped)


def _audit(
    session: Session,
    staff: StaffIdentity,
    action: str,
    draft: Broadcast,
    now: datetime,
    detail: str,
) -> None:
    audit(
        session,
        actor=actor_of(staff),
        action=action,
        record=f"broadcast:{draft.id}",
        detail=f"{draft.segment}: {detail}",
        now=now,
    )
