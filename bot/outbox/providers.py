"""What the dispatcher needs from a channel provider (Twilio SMS, Telegram Bot API).

A provider sends one already-rendered message and says how it went, sorting failures into
temporary (retry later: 429, 5xx, connection refused), permanent (never retry: bad number,
blocked bot, opted out), and unknown (the request timed out after it may have reached the
provider: not resent blindly, see bot.outbox.dispatcher).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

__all__ = ["Outcome", "SendResult", "Provider"]


class Outcome(StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class SendResult:
    """`{"outcome": "sent", "provider_id": "SM123…"}`; `retry_after` in seconds when the
    provider said so (HTTP 429 Retry-After); `opted_out` when the provider reports that the
    recipient unsubscribed (Twilio error 21610) or blocked the bot (Telegram 403)."""

    outcome: Outcome
    provider_id: str | None = None
    error: str | None = None
    retry_after: float | None = None
    opted_out: bool = False


class Provider(Protocol):
    channel: str  # "sms" or "telegram"

    async def send(
        self, address: str, text: str, *, keyboard: list[list[str]] | None = None
    ) -> SendResult:
        """Send one message to the address: an E.164 phone, or "tg:<chat id>" on Telegram."""
        ...
