"""Scale-out on PostgreSQL: two `passnum serve` processes answer one flood of SMS webhooks
(retries included, sent to the other process), and two `passnum tick` processes plan and
send reminders at the same moment. Every inbound message gets exactly one reply; every
reminder goes out once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from twilio.request_validator import RequestValidator

from bot.fakes.servers import FakeTwilio
from storage.booking import reserve_seat
from storage.db import create_db_engine, unit_of_work
from storage.demo import load_demo
from storage.migrate import upgrade
from storage.models import Beneficiary, InboundMessage
from tests import factories
from tests.conftest import POSTGRES_URL
from tests.e2e.conftest import AUTH_TOKEN, PUBLIC_URL, _free_port

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs PASSNUM_TEST_DATABASE_URL")

MESSAGES = 300
RETRIES = 60
PARIS = ZoneInfo("Europe/Paris")


def _env(database_url: str, twilio: FakeTwilio) -> dict[str, str]:
    return {
        **os.environ,
        "PASSNUM_DATABASE_URL": database_url,
        "PASSNUM_PUBLIC_URL": PUBLIC_URL,
        "PASSNUM_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "PASSNUM_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PASSNUM_TWILIO_FROM": "+33700000000",
        "PASSNUM_TWILIO_API_BASE": twilio.url,
        "PASSNUM_TELEGRAM_TOKEN": "",
    }


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not start")


def _signed(sender: str, body: str, sid: str) -> tuple[dict[str, str], str]:
    params = {"From": sender, "To": "+33700000000", "Body": body, "MessageSid": sid}
    return params, RequestValidator(AUTH_TOKEN).compute_signature(
        PUBLIC_URL + "/sms/twilio", params
    )


def _post(url: str, params: dict[str, str], signature: str) -> str:
    answer = httpx.post(
        url + "/sms/twilio", data=params, timeout=60, headers={"X-Twilio-Signature": signature}
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def test_two_servers_answer_every_message_exactly_once(postgres_schema_url: str) -> None:
    engine = create_db_engine(postgres_schema_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        load_demo(session, now=datetime.now(UTC))
        session.commit()
        phones = [p for p in session.scalars(select(Beneficiary.phone)).all() if p]
    with FakeTwilio() as twilio:
        env = _env(postgres_schema_url, twilio)
        servers = [_serve(env), _serve(env)]
        try:
            jobs = []
            for n in range(MESSAGES):
                params, signature = _signed(
                    phones[n % len(phones)], ["1", "MENU", "3"][n % 3], f"SM2P{n:028d}"
                )
                jobs.append((servers[n % 2][1], params, signature))
            # Twilio retries: the same MessageSid again, at the *other* process
            retries = [
                (servers[(n + 1) % 2][1], p, s) for n, (_u, p, s) in enumerate(jobs[:RETRIES])
            ]
            with ThreadPoolExecutor(max_workers=16) as pool:
                answers = list(pool.map(lambda job: _post(*job), jobs + retries))
        finally:
            for process, _url in servers:
                process.terminate()
                process.wait(timeout=30)
    first, repeated = answers[:MESSAGES], answers[MESSAGES:]
    assert all(a.count("<Message>") >= 1 for a in first), "every message got a reply"
    assert repeated == first[:RETRIES], "a retry repeats the first answer"
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(InboundMessage))
        replies = session.scalars(select(InboundMessage.reply)).all()
    assert stored == MESSAGES, "a retried MessageSid is stored (and processed) once"
    assert all(replies)
    engine.dispose()


BOOKED = 40
SLOT_START = datetime(2027, 3, 2, 15, 0, tzinfo=PARIS)  # a Tuesday, no holiday


def _book_many(engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slots = [
            factories.slot(session, place_id=place.id, starts_at=SLOT_START, capacity=BOOKED).id
            for _ in range(4)
        ]
        for n in range(BOOKED):
            person = factories.beneficiary(session, vouchers=1, phone=f"+3361234{n:04d}")
            reserve_seat(
                session,
                beneficiary_id=person.id,
                slot_id=slots[n % 4],
                now=datetime(2027, 2, 1, tzinfo=UTC),
            )
        session.commit()


def _tick(env: dict[str, str], now: datetime) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "tick", "--now", now.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_two_tick_processes_send_every_reminder_once(postgres_schema_url: str) -> None:
    engine = create_db_engine(postgres_schema_url)
    upgrade(engine)
    _book_many(engine)
    two_hours_before = SLOT_START - timedelta(hours=2) + timedelta(minutes=5)
    with FakeTwilio() as twilio:
        env = _env(postgres_schema_url, twilio)
        ticks = [_tick(env, two_hours_before), _tick(env, two_hours_before)]
        outputs = [t.communicate(timeout=240)[0].decode() for t in ticks]
        assert all(t.returncode == 0 for t in ticks), outputs
        again = _tick(env, two_hours_before + timedelta(minutes=1))
        again.communicate(timeout=120)
        sent = twilio.sent
    pairs = Counter((m["To"], m["Body"]) for m in sent)
    assert max(pairs.values()) == 1, "no message twice"
    two_hour_reminders = [m for m in sent if m["Body"].startswith("Rappel : atelier à ")]
    assert len(two_hour_reminders) == BOOKED, "every booked person got the H-2 reminder once"
    assert len({m["To"] for m in two_hour_reminders}) == BOOKED
    engine.dispose()
