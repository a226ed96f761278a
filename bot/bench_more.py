"""The benchmarks of the channels and the outbox, added to `passnum bench`'s list."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.bench_webhook import bench_webhook

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
    from storage.broadcasts import confirm_broadcast, create_broadcast
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
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        draft, seen = create_broadcast(
            session,
            staff=CLI_ADMIN,
            segment="all",
            message="Rappel : ateliers gratuits cette semaine.",
            language=None,
            send_at=None,
            now=NOW,
            price_eur=0.07,
            threshold=10**9,
        )
        confirm_broadcast(
            session, staff=CLI_ADMIN, broadcast_id=draft.id or 0, now=NOW, threshold=10**9
        )
        session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"recipients": seen.recipients, "seconds": round(elapsed, 2), "target_seconds": 10}


def bench_dispatcher(workdir: Path, quick: bool) -> dict[str, Any]:
    """The dispatcher's own throughput against a zero-latency loopback provider."""
    from bot.bench_outbox import bench_dispatch

    count = 2_000 if quick else 10_000
    engine = _engine(workdir, "dispatch.db")
    rate = bench_dispatch(engine, count)
    engine.dispose()
    return {"messages": count, "messages_per_s": round(rate, 1)}


def bench_reminder_planning(workdir: Path, quick: bool) -> dict[str, Any]:
    """Planning J-1 and H-2 reminders for many bookings at once."""
    from bot.bench_outbox import bench_plan_reminders

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
