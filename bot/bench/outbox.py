"""Benchmarks of the outbox, called by `passnum bench`: dispatch throughput against the
zero-latency loopback gateway, and reminder planning time for many bookings."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.fakes.provider import FakeGateway, LoopbackProvider
from bot.outbox.dispatcher import DispatchConfig, Dispatcher
from bot.outbox.pacing import PacingConfig
from bot.outbox.scheduler import plan
from config import Settings
from storage import outbox
from storage.db import unit_of_work
from storage.models import Beneficiary, Booking, Booklet, Place, Slot, Topic, Voucher

__all__ = ["bench_dispatch", "bench_plan_reminders"]

MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
SEATS = 10


def _settings() -> Settings:
    return Settings(_env_file=None, sms_daily_cap=10**9)  # type: ignore[call-arg]


def bench_dispatch(engine: Engine, n: int) -> float:
    """Messages per second from queued to sent, unpaced, through real loopback HTTP."""
    rows = [
        {
            "channel": "sms",
            "address": f"+336{i:08d}",
            "body": f"Bench {i}",
            "dedupe_key": f"bench-dispatch:{time.time_ns()}:{i}",
        }
        for i in range(n)
    ]
    with unit_of_work(engine) as session:
        outbox.enqueue_many(session, rows, now=MONDAY_10)
        session.commit()
    gateway = FakeGateway().start()
    provider = LoopbackProvider("sms", gateway.url)
    config = DispatchConfig(batch_size=200, concurrency=8, pacing=PacingConfig(None, None, None))
    dispatcher = Dispatcher(engine, {"sms": provider}, _settings(), config=config)
    started = time.perf_counter()
    try:
        asyncio.run(_dispatch_and_close(dispatcher, provider))
    finally:
        gateway.stop()
    return len(gateway.received) / (time.perf_counter() - started)


async def _dispatch_and_close(dispatcher: Dispatcher, provider: LoopbackProvider) -> None:
    await dispatcher.dispatch_due(MONDAY_10)
    await provider.aclose()


def bench_plan_reminders(engine: Engine, n_bookings: int) -> float:
    """Seconds for one planning pass over `n_bookings` upcoming bookings (J-1 + H-2 each)."""
    _seed_bookings(engine, n_bookings)
    started = time.perf_counter()
    plan(engine, _settings(), now=MONDAY_10)
    return time.perf_counter() - started


def _seed_bookings(engine: Engine, n: int) -> None:
    """n people, each booked on one of n/SEATS slots over the next days (bulk inserts)."""
    now, tag = datetime.now(UTC), str(time.time_ns())
    with engine.begin() as conn:
        topic_key = Topic.__table__.c.key  # type: ignore[attr-defined]  # the Core column
        if conn.scalar(select(topic_key).where(topic_key == "email")) is None:
            conn.execute(
                insert(Topic), [{"key": "email", "label_fr": "E-mail", "label_en": "E-mail"}]
            )
        place_id = conn.execute(
            insert(Place).returning(Place.__table__.c.id),  # type: ignore[attr-defined]
            [
                {
                    "external_id": f"bench-{tag}",
                    "name": "Maison des habitants",
                    "address": "1 rue",
                    "postcode": "38000",
                    "commune": "Grenoble",
                    "latitude": 45.18,
                    "longitude": 5.72,
                }
            ],
        ).scalar_one()
        slot_ids = _ids(
            conn,
            Slot,
            [
                {
                    "external_id": f"bench-{tag}-{s}",
                    "place_id": place_id,
                    "topic": "email",
                    "starts_at": MONDAY_10 + timedelta(days=1 + s % 5, hours=s % 8),
                    "ends_at": MONDAY_10 + timedelta(days=1 + s % 5, hours=s % 8 + 2),
                    "capacity": SEATS,
                    "booked": SEATS,
                }
                for s in range(max(n // SEATS, 1))
            ],
        )
        people = _ids(
            conn,
            Beneficiary,
            [
                {
                    "first_name": f"P{i}",
                    "phone": f"+337{tag[-4:]}{i:06d}"[:16],
                    "created_at": now,
                    "last_channel": "sms",
                }
                for i in range(n)
            ],
        )
        booklets = _ids(
            conn,
            Booklet,
            [
                {
                    "number": f"B{tag}-{i}",
                    "verification_code": "1",
                    "beneficiary_id": p,
                    "issued_at": now,
                }
                for i, p in enumerate(people)
            ],
        )
        vouchers = _ids(
            conn,
            Voucher,
            [
                {
                    "code": f"V{tag}-{i}",
                    "booklet_id": b,
                    "expires_on": date(2027, 6, 30),
                    "status": "reserved",
                    "updated_at": now,
                }
                for i, b in enumerate(booklets)
            ],
        )
        conn.execute(
            insert(Booking),
            [
                {
                    "slot_id": slot_ids[i // SEATS % len(slot_ids)],
                    "beneficiary_id": p,
                    "voucher_id": v,
                    "status": "booked",
                    "created_at": now - timedelta(days=7),
                    "updated_at": now,
                }
                for i, (p, v) in enumerate(zip(people, vouchers, strict=True))
            ],
        )


def _ids(conn, model, rows: list[dict]) -> list[int]:  # type: ignore[no-untyped-def, type-arg]
    """Insert rows and return their ids in order (one statement per 1,000 rows)."""
    result = conn.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())
