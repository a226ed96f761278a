"""Phone numbers never reach the logs in clear, whatever the path."""

from __future__ import annotations

import asyncio
import logging

from bot.fakes.servers import FakeTwilio
from bot.outbox.providers import SendResult
from bot.outbox.twilio_sms import TwilioSmsProvider
from bot.runtime import configure_logging
from config import load_settings
from tests.e2e.conftest import LiveApp

PHONE = "+33612345678"


async def _send_once(provider: TwilioSmsProvider, phone: str, text: str) -> SendResult:
    try:
        return await provider.send(phone, text)
    finally:
        await provider.aclose()


def test_sending_an_sms_logs_no_number(caplog) -> None:  # type: ignore[no-untyped-def]
    configure_logging()
    with FakeTwilio() as twilio, caplog.at_level(logging.DEBUG, logger="passnum-test"):
        caplog.set_level(logging.INFO)
        settings = load_settings(
            twilio_account_sid="AC" + "2" * 32,
            twilio_auth_token="t",
            twilio_from="+33700000000",
            twilio_api_base=twilio.url,
        )
        result = asyncio.run(_send_once(TwilioSmsProvider(settings), PHONE, "Rappel"))
        assert result.provider_id
    assert twilio.sent[0]["To"] == PHONE
    assert PHONE not in caplog.text
    assert "33612345678" not in caplog.text


def test_webhook_flood_and_refusals_log_masked_numbers(live_app: LiveApp, caplog) -> None:  # type: ignore[no-untyped-def]
    configure_logging()
    caplog.set_level(logging.DEBUG)
    live_app.sms("MENU", sender="+447700900123")  # foreign: refused, logged
    live_app.sms("MENU", sender=PHONE)
    assert "+44 7" in caplog.text  # masked form is there
    assert "+447700900123" not in caplog.text
    assert PHONE not in caplog.text
