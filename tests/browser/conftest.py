"""The console in a real headless Chromium (Debian's), driven by Playwright, against
`passnum serve` started as a subprocess on loopback with fake Twilio and Telegram servers.

The tests skip only when no chromium exists at all (CI installs Debian's: see .ci/run).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.fakes.servers import FakeTelegram, FakeTwilio
from storage.db import create_db_engine, unit_of_work
from storage.staff import create_staff

AUTH_TOKEN = "browser-test-auth-token-0123456789"
BOOTSTRAP = "browser-bootstrap-Qm8Lz3Vx7Kp2Rw9Tn4Hj6Bd"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
PASSNUM = str(Path(sys.executable).with_name("passnum"))


def chromium_path() -> str | None:
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Console:
    """A running `passnum serve`, its fakes, its database and the demo coordinator's token."""

    url: str
    env: dict[str, str]
    twilio: FakeTwilio
    telegram: FakeTelegram
    database_url: str
    admin_token: str

    def passnum(self, *args: str) -> str:
        done = subprocess.run(
            [PASSNUM, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def tick(self, now: datetime) -> str:
        return self.passnum("tick", "--now", now.isoformat())

    def deliver_all(self) -> int:
        """Twilio's status callbacks: every message the fake received is now `delivered`."""
        validator = RequestValidator(AUTH_TOKEN)
        for sid in list(self.twilio.sids):
            params = {
                "MessageSid": sid,
                "MessageStatus": "delivered",
                "AccountSid": "AC" + "0" * 32,
            }
            signature = validator.compute_signature(self.url + "/sms/twilio/status", params)
            answer = httpx.post(
                self.url + "/sms/twilio/status",
                data=params,
                headers={"X-Twilio-Signature": signature},
            )
            assert answer.status_code == 204, answer.text
        return len(self.twilio.sids)

    def new_admin(self, name: str) -> str:
        """A second, established admin: an account a month old, so the two-person rule lets
        them approve what the demo coordinator composed (docs/security.md)."""
        engine = create_db_engine(self.database_url)
        with unit_of_work(engine) as session:
            _member, token = create_staff(
                session, name=name, role="admin", place_ids=[], now=now_utc() - timedelta(days=30)
            )
            session.commit()
        engine.dispose()
        return token


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    if chromium_path() is None:
        pytest.skip("no chromium on this machine: apt-get install chromium (CI does)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    with FakeTwilio() as twilio, FakeTelegram() as telegram:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PASSNUM_")},
            "PASSNUM_DATABASE_URL": database_url,
            "PASSNUM_PUBLIC_URL": url,
            "PASSNUM_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "PASSNUM_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PASSNUM_TWILIO_FROM": "+33700000000",
            "PASSNUM_TWILIO_API_BASE": twilio.url,
            "PASSNUM_TELEGRAM_TOKEN": "123456:BROWSER-TEST",
            "PASSNUM_TELEGRAM_API_BASE": telegram.url,
            "PASSNUM_STAFF_TOKEN": BOOTSTRAP,
            "PASSNUM_BROADCAST_APPROVAL_THRESHOLD": "1",
        }
        shell = Console(url, env, twilio, telegram, database_url, "")
        output = shell.passnum("demo")
        found = re.search(r"token: (\S+)", output)
        assert found, output
        shell.admin_token = found.group(1)
        assert f"Staff console: {url}/" in output
        server = subprocess.Popen(
            [PASSNUM, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_healthy(url, server)
            yield shell
        finally:
            server.terminate()
            server.wait(timeout=20)


def _wait_healthy(url: str, server: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("passnum serve did not start")


@pytest.fixture
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium on this machine: apt-get install chromium (CI does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def now_utc() -> datetime:
    return datetime.now(UTC)
