"""A recorded help message's transcript (Twilio's, when it comes, minutes after the call)
goes to the help inbox through the same effect as a written help message."""

from __future__ import annotations

from typing import Any

from bot.channels.effects import EffectContext, execute_effects
from flows.types import LeaveHelpMessage
from storage.conversations import record_inbound
from storage.db import unit_of_work
from storage.identity import beneficiary_for_address
from storage.voice_calls import VOICE_CHANNEL

__all__ = ["store_transcription"]


def store_transcription(services: Any, *, call_sid: str, address: str, text: str) -> bool:
    """Leave the transcript for staff, once per call (a repeated callback does nothing)."""
    now = services.assistant.clock()
    with unit_of_work(services.engine) as session:
        record = record_inbound(
            session,
            channel=VOICE_CHANNEL,
            provider_id=f"{call_sid}:transcription",
            address=address,
            body=text,
            now=now,
        )
        if record.duplicate:
            return False
        holder = beneficiary_for_address(session, channel=VOICE_CHANNEL, address=address)
        effects = EffectContext(
            session=session,
            channel=VOICE_CHANNEL,
            address=address,
            beneficiary_id=holder.id if holder else None,
            now=now,
            settings=services.settings,
        )
        execute_effects(effects, [LeaveHelpMessage(f"Transcription : {text}"[:1600])])
        session.commit()
        return True
