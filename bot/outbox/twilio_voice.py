"""Reminder calls: the outbox's voice rows placed with the Twilio Calls API
(`POST /2010-04-01/Accounts/{sid}/Calls.json`), through the same client as SMS.

A voice row's body is the spoken turn (flows.voice, JSON); the call says it with inline TwiML
and its keys come back to `/voice/twilio/gather?about=reminder` (1 "I will come", 2 cancel).
Calls come from PASSNUM_TWILIO_FROM, which must then be a phone number (a Messaging Service
cannot call).
"""

from __future__ import annotations

import asyncio

import requests
from twilio.base.exceptions import TwilioRestException

from bot.channels.voice_twiml import turn_twiml
from bot.outbox.providers import Outcome, SendResult
from bot.outbox.twilio_sms import _classify, twilio_client
from config import Settings
from flows.voice import VoiceTurn

__all__ = ["TwilioVoiceProvider", "can_call"]

RING_SECONDS = 30


def can_call(settings: Settings) -> bool:
    """Calls are offered, Twilio is configured and the sender is a number."""
    sender = settings.twilio_from or ""
    return settings.voice_reminders and settings.twilio_configured and sender.startswith("+")


class TwilioVoiceProvider:
    """Places one reminder call; failures sorted like SMS ones."""

    channel = "voice"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = twilio_client(settings)

    async def send(
        self, address: str, text: str, *, keyboard: list[list[str]] | None = None
    ) -> SendResult:
        return await asyncio.to_thread(self.call_now, address, text)

    def call_now(self, address: str, body: str) -> SendResult:
        try:
            turn = VoiceTurn.from_json(body)
        except (ValueError, KeyError, TypeError) as error:
            return SendResult(Outcome.PERMANENT, error=f"not a spoken turn: {error}")
        twiml = turn_twiml(turn, base_url=self.settings.public_url, step=1, about="reminder")
        try:
            call = self.client.calls.create(
                to=address, from_=self.settings.twilio_from, twiml=twiml, timeout=RING_SECONDS
            )
        except TwilioRestException as error:
            return _classify(error)
        except requests.exceptions.ConnectTimeout as error:
            return SendResult(Outcome.TEMPORARY, error=f"connect timeout: {error}")
        except requests.exceptions.Timeout as error:
            return SendResult(Outcome.UNKNOWN, error=f"timeout: {error}")  # may have rung
        except requests.exceptions.ConnectionError as error:
            return SendResult(Outcome.TEMPORARY, error=f"connection: {error}")
        return SendResult(Outcome.SENT, provider_id=call.sid)
