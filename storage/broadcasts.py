"""Broadcasts: a message to a segment of beneficiaries, through the outbox — the writes.

Life of a broadcast: `draft` (composed, previewed) → confirmed → `queued` (its outbox rows exist,
the dispatcher sends them with pacing and quiet hours), or `pending_approval` first when it
reaches more people than the approval threshold (with the overlapping broadcasts of the last
24 h), until a second, independent staff member approves (storage.broadcast_approval).
`cancelled` at any point: outbox rows not yet claimed are cancelled with it.

Recipients go in with one bulk insert (100,000 in seconds); each row's dedupe key
`broadcast:<id>:<beneficiary>` makes "once each" a database fact. Segments and recipients:
storage.broadcast_segments; reports: storage.broadcast_reports. Who may do what, the SMS text
and the audit are the staff handlers' (`bot.staff.broadcasts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from storage.models import Broadcast
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S
from storage.outbox import enqueue_many
from storage.staff import StaffRefused

__all__ = [
    "LIVE_STATES",
    "BroadcastTexts",
    "add_draft",
    "hold_for_approval",
    "queue_broadcast",
    "stop_broadcast",
]

LIVE_STATES = ("draft", "pending_approval", "queued")


@dataclass(frozen=True)
class BroadcastTexts:
    """What each channel's message says: the SMS as sent (GSM-7) and its segments, and the
    Telegram text as typed."""

    sms: str
    sms_segments: int
    telegram: str


def add_draft(
    session: Session,
    *,
    segment: str,
    message: str,
    language: str | None,
    send_at: datetime | None,
    created_by: int | None,
    recipients: int,
    now: datetime,
) -> Broadcast:
    """A new draft; nothing is queued before it is confirmed."""
    draft = Broadcast(
        segment=segment,
        message=message,
        language=language,
        send_at=send_at,
        created_by=created_by,
        recipients=recipients,
        created_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def hold_for_approval(session: Session, draft: Broadcast, *, recipients: int) -> None:
    """The draft waits for a second staff member's approval."""
    _move(session, draft, "draft", status="pending_approval", recipients=recipients)


def queue_broadcast(
    session: Session,
    draft: Broadcast,
    *,
    expected: str,
    people: list[tuple[int, str, str]],
    texts: BroadcastTexts,
    now: datetime,
    approved_by: int | None = None,
) -> None:
    """From `expected` (draft, pending_approval) to queued: one outbox row per recipient."""
    values: dict[str, Any] = {"approved_by": approved_by} if expected == "pending_approval" else {}
    _move(session, draft, expected, status="queued", recipients=len(people), **values)
    by_channel = {"sms": (texts.sms, texts.sms_segments), "telegram": (texts.telegram, 1)}
    enqueue_many(
        session,
        (
            {
                "channel": channel,
                "address": address,
                "body": by_channel[channel][0],
                "segments": by_channel[channel][1],
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


def stop_broadcast(session: Session, draft: Broadcast, *, now: datetime) -> int:
    """Cancel a live broadcast; its outbox rows not yet sent are cancelled. Returns how many."""
    if draft.status not in LIVE_STATES:
        raise StaffRefused("conflict", f"broadcast {draft.id} is already {draft.status}")
    _move(session, draft, draft.status, status="cancelled")
    stopped = session.execute(
        update(Msg)
        .where(Msg.broadcast_id == draft.id, Msg.status == S.QUEUED.value)
        .values(status=S.CANCELLED.value, error="broadcast cancelled", updated_at=now)
    ).rowcount
    return int(stopped)
