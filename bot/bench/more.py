"""The benchmarks of the channels and the outbox, added to `passnum bench`'s list."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.bench.webhook import bench_webhook
from bot.outbox.providers import Outcome, SendResult

__all__ = ["MORE_BENCHES"]

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _engine(workdir: Path, name: str) -> Engine:
    from storage.db import create_db_engine
    from storage.migrate import upgrade

    engine = create_db_engine(f"sqlite:///{workdir / name}")
    upgrade(engine)
    return engine


def bench_broadcast_enqueue(workdir: Path, quick: bool) -> dict[str, Any]:
    """Build a broadcast's recipient list and put every message in the outbox."""
    from bot.bootstrap import build_staff_service
    from bot.staff.broadcasts import SendBroadcast
    from config import load_settings
    from storage.db import unit_of_work
    from storage.models import Beneficiary
    from storage.staff import CLI_ADMIN

    people = 20_000 if quick else 100_000
    engine = _engine(workdir, "broadcast.db")
    rows = [
        {
            "first_name": f"P{i}",
            "phone": f"+33698{i:06d}",
            "language": "fr",
            "reminders_enabled": True,
            "opted_out": False,
            "telegram_unreachable": False,
            "created_at": NOW,
        }
        for i in range(people)
    ]
    with unit_of_work(engine) as session:
        session.execute(insert(Beneficiary), rows)
        session.commit()
    settings = load_settings(broadcast_approval_threshold=10**9)
    service = build_staff_service(engine, settings, clock=lambda: NOW)
    started = time.perf_counter()
    sent = service.handle(
        CLI_ADMIN, SendBroadcast(segment="all", message="Rappel : ateliers gratuits cette semaine.")
    )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"recipients": sent.recipients, "seconds": round(elapsed, 2), "target_seconds": 2}


def bench_dispatcher(workdir: Path, quick: bool) -> dict[str, Any]:
    """The dispatcher's throughput against a zero-latency fake provider over HTTP."""
    from bot.bench.outbox import bench_dispatch

    count = 2_000 if quick else 10_000
    engine = _engine(workdir, "dispatch.db")
    rate = bench_dispatch(engine, count)
    engine.dispose()
    return {"messages": count, "messages_per_s": round(rate, 1)}


class _NoCallProvider:
    """A provider that makes no HTTP call and says every message went: what is left of a
    dispatch is the dispatcher's own work (claim, pacing, recording the outcomes)."""

    channel = "sms"

    def __init__(self) -> None:
        self.sent = 0

    async def send(
        self, address: str, text: str, *, keyboard: list[list[str]] | None = None
    ) -> SendResult:
        self.sent += 1
        return SendResult(Outcome.SENT, provider_id=f"NOCALL{self.sent}")


def bench_dispatcher_own_work(workdir: Path, quick: bool) -> dict[str, Any]:
    """The dispatcher's throughput when sending costs nothing (issue 12: ≥ 10,000 msg/s)."""
    from bot.bench.outbox import MONDAY_10, queue_sms
    from bot.outbox.dispatcher import DispatchConfig, Dispatcher
    from bot.outbox.pacing import PacingConfig
    from config import Settings

    count = 2_000 if quick else 10_000
    engine = _engine(workdir, "dispatch-own.db")
    queue_sms(engine, count, key="own")
    provider = _NoCallProvider()
    settings = Settings(_env_file=None, sms_daily_cap=10**9)  # type: ignore[call-arg]  # pydantic-settings' init keyword
    config = DispatchConfig(batch_size=200, concurrency=8, pacing=PacingConfig(None, None, None))
    dispatcher = Dispatcher(engine, {"sms": provider}, settings, config=config)
    started = time.perf_counter()
    asyncio.run(dispatcher.dispatch_due(MONDAY_10))
    elapsed = time.perf_counter() - started
    engine.dispose()
    assert provider.sent == count, f"{provider.sent} of {count} sent"
    return {"messages": count, "messages_per_s": round(count / elapsed, 1)}


def bench_reminder_planning(workdir: Path, quick: bool) -> dict[str, Any]:
    """Planning J-1 and H-2 reminders for many bookings at once, then the next minute's pass
    (nothing new to plan: what the scheduler pays every minute)."""
    from bot.bench.outbox import MONDAY_10, bench_plan_reminders
    from bot.outbox.scheduler import plan
    from config import Settings

    bookings = 20_000 if quick else 100_000
    engine = _engine(workdir, "plan.db")
    seconds = bench_plan_reminders(engine, bookings)
    settings = Settings(_env_file=None, sms_daily_cap=10**9)  # type: ignore[call-arg]  # pydantic-settings' init keyword
    started = time.perf_counter()
    plan(engine, settings, now=MONDAY_10 + timedelta(minutes=1))
    every_minute = time.perf_counter() - started
    engine.dispose()
    return {
        "bookings": bookings,
        "seconds": round(seconds, 2),
        "every_minute_seconds": round(every_minute, 2),
        "target_seconds": 3,
    }


MORE_BENCHES: dict[str, Callable[[Path, bool], dict[str, Any]]] = {
    "webhook_full_vs_bare": bench_webhook,
    "broadcast_enqueue": bench_broadcast_enqueue,
    "dispatcher": bench_dispatcher,
    "dispatcher_own_work": bench_dispatcher_own_work,
    "reminder_planning": bench_reminder_planning,
}
