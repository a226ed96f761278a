"""The providers the dispatcher sends through, built from settings."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.outbox.providers import Outcome, Provider, SendResult
from bot.outbox.twilio_sms import TwilioSmsProvider
from bot.outbox.twilio_voice import TwilioVoiceProvider, can_call
from config import Settings
from storage.identity import telegram_chat_id

__all__ = ["NoSmsProvider", "TelegramProvider", "build_providers"]

log = logging.getLogger(__name__)


class NoSmsProvider:
    """No Twilio credentials: nothing leaves, the outbox keeps the message (a laptop setup)."""

    channel = "sms"

    async def send(
        self, address: str, text: str, *, keyboard: list[list[str]] | None = None
    ) -> SendResult:
        return SendResult(Outcome.NOT_CONFIGURED, error="not sent: no SMS provider configured")

    async def find_sent(self, address: str, text: str, *, since: datetime) -> str | None:
        """Nothing ever leaves: a row caught mid-call by a crash was not sent."""
        return None


class TelegramProvider:
    """Sends through the Bot API (the running Application's bot when there is one)."""

    channel = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._ready = False

    async def send(
        self, address: str, text: str, *, keyboard: list[list[str]] | None = None
    ) -> SendResult:
        chat_id = telegram_chat_id(address)
        if chat_id is None:
            return SendResult(Outcome.PERMANENT, error=f"not a Telegram address: {address}")
        try:
            if not self._ready:
                await self.bot.initialize()
                self._ready = True
            message = await self.bot.send_message(chat_id=chat_id, text=text)
        except Forbidden as error:
            return SendResult(Outcome.PERMANENT, error=str(error), opted_out=True)
        except RetryAfter as error:
            delay = error.retry_after
            seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
            return SendResult(Outcome.TEMPORARY, error=str(error), retry_after=seconds)
        except TimedOut as error:
            return SendResult(Outcome.UNKNOWN, error=f"timeout: {error}")
        except BadRequest as error:
            return SendResult(Outcome.PERMANENT, error=str(error))
        except NetworkError as error:
            return SendResult(Outcome.TEMPORARY, error=str(error))
        return SendResult(Outcome.SENT, provider_id=f"tg:{chat_id}:{message.message_id}")


def build_providers(settings: Settings, *, telegram: Any = None) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    if settings.twilio_configured:
        providers["sms"] = TwilioSmsProvider(settings)
    else:
        log.warning("no Twilio credentials: SMS stay in the outbox, not sent")
        providers["sms"] = NoSmsProvider()
    if can_call(settings):
        providers["voice"] = TwilioVoiceProvider(settings)
    if telegram is not None:
        providers["telegram"] = TelegramProvider(telegram.bot)
    elif settings.telegram_token:
        api = settings.telegram_api_base.rstrip("/")
        providers["telegram"] = TelegramProvider(
            Bot(settings.telegram_token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot")
        )
    return providers
