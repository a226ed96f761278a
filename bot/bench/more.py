"""The benchmarks of the channels and the outbox, added to `passnum bench`'s list."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.bench.webhook import bench_webhook

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
    return {"recipients": sent.recipients, "seconds": round(elapsed, 2), "target_seconds": 10}


def bench_dispatcher(workdir: Path, quick: bool) -> dict[str, Any]:
    """The dispatcher's own throughput against a zero-latency loopback provider."""
    from bot.bench.outbox import bench_dispatch

    count = 2_000 if quick else 10_000
    engine = _engine(workdir, "dispatch.db")
    rate = bench_dispatch(engine, count)
    engine.dispose()
    return {"messages": count, "messages_per_s": round(rate, 1)}


def bench_reminder_planning(workdir: Path, quick: bool) -> dict[str, Any]:
    """Planning J-1 and H-2 reminders for many bookings at once."""
    from bot.bench.outbox import bench_plan_reminders

    bookings = 20_000 if quick else 100_000
    engine = _engine(workdir, "plan.db")
    seconds = bench_plan_reminders(engine, bookings)
    engine.dispose()
    return {"bookings": bookings, "seconds": round(seconds, 2)}


MORE_BENCHES: dict[str, Callable[[Path, bool], dict[str, Any]]] = {
    "webhook_full_vs_bare": bench_webhook,
    "broadcast_enqueue": bench_broadcast_enqueue,
    "dispatcher": bench_dispatcher,
    "reminder_planning": bench_reminder_planning,
}
