"""Twilio SMS: sending with direct Messages API calls (against PASSNUM_TWILIO_API_BASE), finding
a message we may have sent (after a crash during the call), and the inbound webhook's signature
check with twilio's RequestValidator."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus, urlencode

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from yarl import URL

from bot.outbox.providers import Outcome, SendResult
from config import Settings

__all__ = ["OPTED_OUT_ERROR", "TwilioSmsProvider", "signature_is_valid", "twilio_client"]

log = logging.getLogger(__name__)

TWILIO_DEFAULT_BASE = "https://api.twilio.com"
OPTED_OUT_ERROR = 21610  # "Attempt to send to unsubscribed recipient"
PERMANENT_ERRORS = {21211, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006}
SEND_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 64  # keep-alive connections to Twilio; the dispatcher bounds concurrency
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
    """Sends one SMS with a direct call to Twilio's Messages API (aiohttp, keep-alive
    connections, TCP_NODELAY); sorts failures into temporary, permanent and unknown. Finding
    a message after a crash (rare) goes through the official client."""

    channel = "sms"

    def __init__(self, settings: Settings, *, connections: int = MAX_CONNECTIONS) -> None:
        self.settings = settings
        self.client = twilio_client(settings)
        self.status_callback = settings.public_url.rstrip("/") + "/sms/twilio/status"
        self.connections = connections
        account = settings.twilio_account_sid or ""
        base = settings.twilio_api_base.rstrip("/")
        self._url = URL(f"{base}/2010-04-01/Accounts/{account}/Messages.json")  # parsed once
        secret = f"{account}:{settings.twilio_auth_token or ''}".encode()
        self._headers = {
            "Authorization": "Basic " + base64.b64encode(secret).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        sender = settings.twilio_from or ""
        origin = "MessagingServiceSid" if sender.startswith("MG") else "From"
        # the fields every message shares, form-encoded once
        self._common = urlencode(
            {
                origin: sender,
                "StatusCallback": self.status_callback,
                "ValidityPeriod": str(VALIDITY_PERIOD_S),
            }
        )
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> aiohttp.ClientSession:
        """The connection pool of the running event loop (created on first use in it)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                cookie_jar=aiohttp.DummyCookieJar(),  # an API: no cookies to keep or send
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=SEND_TIMEOUT_S, sock_read=SEND_TIMEOUT_S
                ),
            )
            self._session_loop = loop
        return self._session

    async def send(
        self, address: str, text: str, *, keyboard: list[list[str]] | None = None
    ) -> SendResult:
        form = f"To={quote_plus(address)}&Body={quote_plus(text)}&{self._common}".encode()
        try:
            async with self._http().post(self._url, data=form, headers=self._headers) as answer:
                status, payload = answer.status, await answer.read()
                retry_after = answer.headers.get("Retry-After")
        except aiohttp.ConnectionTimeoutError as error:  # before a connection: nothing left
            return SendResult(Outcome.TEMPORARY, error=f"connect timeout: {error!r}")
        except TimeoutError as error:
            # The request may have reached Twilio: resending could double the SMS.
            return SendResult(Outcome.UNKNOWN, error=f"timeout: {error!r}")
        except aiohttp.ClientError as error:
            return SendResult(Outcome.TEMPORARY, error=f"connection: {error!r}")
        return _answer_result(status, payload, retry_after)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

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


def _answer_result(status: int, payload: bytes, retry_after: str | None) -> SendResult:
    """A Messages API answer as a SendResult: 2xx carries the sid, errors Twilio's code."""
    try:
        body = json.loads(payload) if payload else {}
    except ValueError:
        body = {}
    if 200 <= status < 300 and body.get("sid"):
        return SendResult(Outcome.SENT, provider_id=str(body["sid"]))
    if 200 <= status < 300:  # accepted, but no sid to confirm it by
        return SendResult(Outcome.UNKNOWN, error=f"twilio {status}: answer without a sid")
    result = _by_code(status, body.get("code"), body.get("message") or payload[:200].decode())
    if result.outcome == Outcome.TEMPORARY and retry_after:
        with contextlib.suppress(ValueError):
            return replace(result, retry_after=float(retry_after))
    return result


def _classify(error: TwilioRestException) -> SendResult:
    return _by_code(error.status, error.code, error.msg)


def _by_code(status: int, code: int | None, message: str) -> SendResult:
    reason = f"twilio {status} {code}: {message}"
    if code == OPTED_OUT_ERROR:
        return SendResult(Outcome.PERMANENT, error=reason, opted_out=True)
    if status == 429 or status >= 500:
        return SendResult(Outcome.TEMPORARY, error=reason)
    if code in PERMANENT_ERRORS or 400 <= status < 500:
        return SendResult(Outcome.PERMANENT, error=reason)
    return SendResult(Outcome.TEMPORARY, error=reason)
