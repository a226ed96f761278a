"""The real app on a loopback port, with local fake Twilio and Telegram servers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from twilio.request_validator import RequestValidator

from bot.fakes.servers import FakeTelegram, FakeTwilio
from bot.server import create_app
from config import Settings, load_settings
from storage.db import create_db_engine, unit_of_work
from storage.demo import load_demo

PUBLIC_URL = "https://passnum.example.org"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TELEGRAM_SECRET = "telegram-secret-token"
STAFF_TOKEN = "tests-bootstrap-Vq7Rk2Zx9LmP4sWd8HfJ3nB6"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveApp:
    url: str
    settings: Settings
    twilio: FakeTwilio
    telegram: FakeTelegram
    engine: object
    client: httpx.Client
    app: object = None

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return self.app.state.services  # type: ignore[attr-defined]

    def sign(self, path: str, params: dict[str, str]) -> str:
        return str(RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, params))

    def sms(
        self,
        body: str,
        *,
        sender: str = "+33612345678",
        sid: str | None = None,
        signature: str | None = None,
        **extra: str,
    ) -> httpx.Response:
        params = {
            "From": sender,
            "To": "+33700000000",
            "Body": body,
            "MessageSid": sid or f"SM{time.time_ns():032x}",
            "AccountSid": "AC" + "0" * 32,
            **extra,
        }
        sign = self.sign("/sms/twilio", params) if signature is None else signature
        return self.client.post("/sms/twilio", data=params, headers={"X-Twilio-Signature": sign})

    def telegram_update(self, update: dict, secret: str = TELEGRAM_SECRET) -> httpx.Response:
        return self.client.post(
            "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
        )

    def wait_for(self, condition, timeout: float = 10.0):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError("condition not met in time")


@pytest.fixture
def live_app(database_url: str) -> Iterator[LiveApp]:
    with FakeTwilio() as twilio, FakeTelegram() as telegram:
        settings = load_settings(
            database_url=database_url,
            public_url=PUBLIC_URL,
            twilio_account_sid="AC" + "0" * 32,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from="+33700000000",
            twilio_api_base=twilio.url,
            telegram_token="123456:TEST-TOKEN",
            telegram_webhook_secret=TELEGRAM_SECRET,
            telegram_api_base=telegram.url,
            staff_token=STAFF_TOKEN,
        )
        engine = create_db_engine(database_url)
        with unit_of_work(engine) as session:
            load_demo(session, now=datetime.now(UTC))
            session.commit()
        app = create_app(settings, engine=engine, run_scheduler=False)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.02)
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=20) as client:
            yield LiveApp(url, settings, twilio, telegram, engine, client, app)
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
