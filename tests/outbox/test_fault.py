"""Crashes and concurrency with real processes: a dispatcher killed with SIGKILL mid-batch
loses nothing once restarted and sends again at most the messages in flight at the kill; two
dispatchers at once never send a message twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.fakes.servers import FakeTwilio
from storage import outbox
from storage.db import create_db_engine, unit_of_work
from storage.migrate import upgrade
from storage.models import OutboundMessage, OutboundSpend
from tests.conftest import POSTGRES_URL
from tests.outbox.dispatch_worker import MONDAY_MORNING

ROOT = Path(__file__).resolve().parents[2]
CLAIM_SECONDS = 2.0


def _fill(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {
            "channel": "sms",
            "address": f"+336{i:08d}",
            "body": f"Message {i}",
            "dedupe_key": f"fault:{i}",
        }
        for i in range(n)
    ]
    with unit_of_work(engine) as session:
        outbox.enqueue_many(session, rows, now=MONDAY_MORNING)
        session.commit()


def _worker(
    url: str, gateway_url: str, epoch: float, rate: float, *kind: str
) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "tests.outbox.dispatch_worker",
        url,
        gateway_url,
        str(epoch),
        str(CLAIM_SECONDS),
        str(rate),
        *kind,
    ]
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _wait_for(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_killed_dispatcher_loses_nothing(engine, gateway) -> None:
    total = 1000
    _fill(engine, total)
    url = engine.url.render_as_string(hide_password=False)
    epoch = time.time()
    first = _worker(url, gateway.url, epoch, rate=400)
    _wait_for(lambda: len(gateway.received) >= 325, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait()
    with unit_of_work(engine) as session:
        in_flight = outbox.count_by_status(session).get("sending", 0)
    at_kill = len(gateway.received)

    second = _worker(url, gateway.url, epoch, rate=0)
    assert second.wait(timeout=120) == 0

    counts = Counter(item.text for item in gateway.received)
    duplicates = sum(counts.values()) - len(counts)
    print(
        f"\n[{engine.dialect.name}] killed after {at_kill} received, {in_flight} in flight; "
        f"after restart: {len(counts)}/{total} delivered, {duplicates} duplicates"
    )
    assert set(counts) == {f"Message {i}" for i in range(total)}
    assert duplicates <= in_flight
    with unit_of_work(engine) as session:
        assert outbox.count_by_status(session) == {"sent": total}


def test_killed_mid_batch_at_10_per_second_twilio_sends_again_at_most_the_in_flight(engine) -> None:  # type: ignore[no-untyped-def]
    """A claimed batch of 60 at 10 segments/s through the Twilio client, SIGKILLed after
    ~35 went out: the restarted dispatcher finds those at Twilio (Messages list) and sends
    only the others."""
    total = 60
    _fill(engine, total)
    url = engine.url.render_as_string(hide_password=False)
    epoch = time.time()
    mapped = lambda: (MONDAY_MORNING + timedelta(seconds=time.time() - epoch)).timestamp()  # noqa: E731
    with FakeTwilio(clock=mapped) as twilio:
        first = _worker(url, twilio.url, epoch, 10, "twilio")
        _wait_for(lambda: len(twilio.sent) >= 35, timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = len(twilio.sent)
        second = _worker(url, twilio.url, epoch, 10, "twilio")
        assert second.wait(timeout=120) == 0
        bodies = Counter(message["Body"] for message in twilio.sent)
    duplicates = sum(bodies.values()) - len(bodies)
    print(
        f"\n[{engine.dialect.name}] killed after {at_kill} sent at 10/s; "
        f"{len(bodies)}/{total} delivered, {duplicates} duplicates"
    )
    assert set(bodies) == {f"Message {i}" for i in range(total)}
    assert duplicates <= 5
    with unit_of_work(engine) as session:
        assert outbox.count_by_status(session) == {"sent": total}
        unknown = select(func.count()).where(OutboundMessage.provider_id.is_(None))
        assert session.scalar(unknown) == 0


@pytest.mark.skipif(POSTGRES_URL is None, reason="PASSNUM_TEST_DATABASE_URL is not set")
def test_two_dispatchers_never_send_twice(postgres_schema_url: str, gateway) -> None:
    total = 10_000
    engine = create_db_engine(postgres_schema_url)
    upgrade(engine)
    _fill(engine, total)
    started = time.monotonic()
    epoch = time.time()
    workers = [_worker(postgres_schema_url, gateway.url, epoch, rate=0) for _ in range(2)]
    try:
        assert [w.wait(timeout=90) for w in workers] == [0, 0]
    finally:  # never leave a worker writing into a schema the fixture drops
        for worker in workers:
            worker.kill()
    elapsed = time.monotonic() - started
    counts = Counter(item.text for item in gateway.received)
    print(
        f"\ntwo dispatchers: {len(counts)} distinct of {sum(counts.values())} received "
        f"in {elapsed:.1f} s"
    )
    assert len(counts) == total and sum(counts.values()) == total
    with unit_of_work(engine) as session:
        assert outbox.count_by_status(session) == {"sent": total}
    engine.dispose()


@pytest.mark.skipif(POSTGRES_URL is None, reason="PASSNUM_TEST_DATABASE_URL is not set")
def test_two_dispatchers_never_spend_past_the_daily_cap(postgres_schema_url: str, gateway) -> None:
    """Two processes share one SMS daily cap: the counter row is locked while each wave
    takes its share, so together they hand the provider at most the cap, and the counter
    says exactly what was handed over."""
    cap, total = 3_001, 4_000  # messages of 1 and 2 segments: 6,000 segments queued
    engine = create_db_engine(postgres_schema_url)
    upgrade(engine)
    rows = [
        {
            "channel": "sms",
            "address": f"+336{i:08d}",
            "body": f"Message {i}",
            "dedupe_key": f"cap:{i}",
            "segments": 1 + i % 2,
        }
        for i in range(total)
    ]
    with unit_of_work(engine) as session:
        outbox.enqueue_many(session, rows, now=MONDAY_MORNING)
        session.commit()
    epoch = time.time()
    workers = [
        _worker(postgres_schema_url, gateway.url, epoch, 0, "loopback", str(cap)) for _ in range(2)
    ]
    try:
        assert [w.wait(timeout=120) for w in workers] == [0, 0]
    finally:
        for worker in workers:
            worker.kill()
    segments = {f"Message {i}": 1 + i % 2 for i in range(total)}
    received = Counter(item.text for item in gateway.received)
    handed = sum(segments[text] for text in received)
    with unit_of_work(engine) as session:
        counted = session.scalar(select(func.sum(OutboundSpend.segments)))
        statuses = outbox.count_by_status(session)
    print(f"\ntwo dispatchers, cap {cap}: {handed} segments sent, counter {counted}, {statuses}")
    assert max(received.values()) == 1
    assert handed == counted
    assert cap - 2 < handed <= cap  # all of it but what a 2-segment message could not fit
    assert statuses["sent"] == len(received) and statuses["queued"] == total - len(received)
    engine.dispose()
