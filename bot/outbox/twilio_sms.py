"""Twilio SMS: sending with the official client (against PASSNUM_TWILIO_API_BASE), finding a
message we may have sent (after a crash during the call), and the inbound webhook's signature
check with twilio's RequestValidator."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.outbox.providers import Outcome, SendResult
from config import Settings

__all__ = ["OPTED_OUT_ERROR", "TwilioSmsProvider", "signature_is_valid", "twilio_client"]

log = logging.getLogger(__name__)

TWILIO_DEFAULT_BASE = "https://api.twilio.com"
OPTED_OUT_ERROR = 21610  # "Attempt to send to unsubscribed recipient"
PERMANENT_ERRORS = {21211, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006}
SEND_TIMEOUT_S = 10.0
VALIDITY_PERIOD_S = 4 * 3600  # a reminder stuck in a queue for hours is worse than none
LOOKUP_LIMIT = 50  # the newest messages to one number: we send a person a few a day
CLOCK_SKEW = timedelta(minutes=5)  # between our clock and Twilio's date_created


class _RebasedHttpClient(TwilioHttpClient):
    """The twilio client with its API host swapped (tests point it at a local fake)."""

    def __init__(self, api_base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_DEFAULT_BASE):
            url = self.api_base + url[len(TWILIO_DEFAULT_BASE) :]
        return super().request(method, url, *args, **kwargs)


def signature_is_valid(
    settings: Settings, path: str, params: dict[str, str], signature: str
) -> bool:
    """Twilio signs the URL it called: our configured public URL, never the one seen behind a
    proxy."""
    if not settings.twilio_auth_token or not signature:
        return False
    url = settings.public_url.rstrip("/") + path
    return bool(RequestValidator(settings.twilio_auth_token).validate(url, params, signature))


def twilio_client(settings: Settings) -> Client:
    """Twilio's REST client against `PASSNUM_TWILIO_API_BASE`, for messages and calls alike."""
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=_RebasedHttpClient(settings.twilio_api_base, timeout=SEND_TIMEOUT_S),
    )


class TwilioSmsProvider:
    """Sends one SMS; sorts failures into temporary, permanent and unknown."""

    channel = "sms"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = twilio_client(settings)
        self.status_callback = settings.public_url.rstrip("/") + "/sms/twilio/status"

    async def send(
        self, address: str, text: str, *, keyboard: list[list[str]] | None = None
    ) -> SendResult:
        return await asyncio.to_thread(self.send_now, address, text)

    def send_now(self, address: str, text: str) -> SendResult:
        sender = self.settings.twilio_from or ""
        origin = {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        try:
            message = self.client.messages.create(
                to=address,
                body=text,
                status_callback=self.status_callback,
                validity_period=VALIDITY_PERIOD_S,
                **origin,
            )
        except TwilioRestException as error:
            return _classify(error)
        except requests.exceptions.ConnectTimeout as error:
            return SendResult(Outcome.TEMPORARY, error=f"connect timeout: {error}")
        except requests.exceptions.Timeout as error:
            # The request may have reached Twilio: resending could double the SMS.
            return SendResult(Outcome.UNKNOWN, error=f"timeout: {error}")
        except requests.exceptions.ConnectionError as error:
            return SendResult(Outcome.TEMPORARY, error=f"connection: {error}")
        return SendResult(Outcome.SENT, provider_id=message.sid)

    async def find_sent(self, address: str, text: str, *, since: datetime) -> str | None:
        return await asyncio.to_thread(self.find_sent_now, address, text, since)

    def find_sent_now(self, address: str, text: str, since: datetime) -> str | None:
        """The sid of `text` sent to `address` since `since`, from the Messages list of that
        number (newest first). Not filtered by DateSent: a message still in Twilio's queue
        has none yet, and it is exactly the one we must not send twice. Raises when Twilio
        cannot be asked."""
        for message in self.client.messages.list(to=address, limit=LOOKUP_LIMIT):
            created = message.date_created
            if message.body == text and (created is None or created >= since - CLOCK_SKEW):
                return str(message.sid)
        return None


def _classify(error: TwilioRestException) -> SendResult:
    reason = f"twilio {error.status} {error.code}: {error.msg}"
    if error.code == OPTED_OUT_ERROR:
        return SendResult(Outcome.PERMANENT, error=reason, opted_out=True)
    if error.status == 429 or error.status >= 500:
        return SendResult(Outcome.TEMPORARY, error=reason)
    if error.code in PERMANENT_ERRORS or 400 <= error.status < 500:
        return SendResult(Outcome.PERMANENT, error=reason)
    return SendResult(Outcome.TEMPORARY, error=reason)
