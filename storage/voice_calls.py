"""The steps of a phone call, kept in the inbound messages: each answer of a call is stored
under the provider id `<CallSid>:<step>` with what the call said back (the spoken turn as
JSON), so a repeated webhook is answered once, and "say it again" (`*`) or "more choices"
(`#`) can say the previous turn without running the conversation again.

A reminder call placed by the outbox has no step 0 of ours: its first turn is the outbox
row's body, found by the call's sid (the row's provider id).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.conversations import record_inbound, save_inbound_reply
from storage.models import InboundMessage, OutboundMessage

__all__ = ["VOICE_CHANNEL", "record_call_step", "step_id", "turn_before"]

VOICE_CHANNEL = "voice"


def step_id(call_sid: str, step: int) -> str:
    """The provider id of one step of a call: `CA…:3`."""
    return f"{call_sid}:{step}"


def turn_before(session: Session, *, call_sid: str, step: int) -> str | None:
    """What the call said at the step before `step` (JSON), or the reminder call's first turn."""
    said = session.scalar(
        select(InboundMessage.reply).where(
            InboundMessage.channel == VOICE_CHANNEL,
            InboundMessage.provider_id == step_id(call_sid, step - 1),
        )
    )
    if said is not None:
        return said
    return session.scalar(
        select(OutboundMessage.body).where(
            OutboundMessage.channel == VOICE_CHANNEL,
            OutboundMessage.provider_id == call_sid,
        )
    )


def record_call_step(
    session: Session,
    *,
    call_sid: str,
    step: int,
    address: str,
    body: str,
    said: str,
    now: datetime,
) -> str:
    """Store a step answered without the conversation (`*`, `#`, silence); a repeated
    delivery gets what the first one said. Returns what to say (JSON)."""
    record = record_inbound(
        session,
        channel=VOICE_CHANNEL,
        provider_id=step_id(call_sid, step),
        address=address,
        body=body,
        now=now,
    )
    if record.duplicate:
        return record.reply or said
    save_inbound_reply(session, inbound_id=record.id, reply=said)
    return said
