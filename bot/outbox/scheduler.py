"""Periodic work: plan reminders, dispatch the outbox, expire vouchers, purge old texts.

A handful of interval jobs on an in-memory APScheduler (`build_scheduler`, started by the
server's lifespan): reminders are rows in the outbox, never one scheduler job each, so a
restart loses nothing and several servers can run side by side. Planning, expiry and purge
are commands of bot.staff.jobs, handled by the staff service as `SCHEDULER`; the dispatcher
runs on its own. `run_tick` does one pass of everything as if at `now` (the `passnum tick`
command, cron, tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine

from bot.bootstrap import build_staff_service
from bot.outbox.dispatcher import DispatchConfig, Dispatcher, DispatchReport
from bot.outbox.providers import Provider
from bot.outbox.reminder_planning import PlanReport
from bot.staff.jobs import SCHEDULER, ExpireVouchers, PlanReminders, PurgeOldTexts
from bot.staff.service import Command, StaffService
from config import Settings

__all__ = ["build_scheduler", "expire", "plan", "purge", "run_tick", "tick"]

log = logging.getLogger(__name__)

PLAN_EVERY = timedelta(minutes=1)
DISPATCH_EVERY = timedelta(seconds=5)
EXPIRE_EVERY = timedelta(hours=1)


def _at(engine: Engine, settings: Settings, now: datetime) -> StaffService:
    return build_staff_service(engine, settings, clock=lambda: now)


def plan(engine: Engine, settings: Settings, *, now: datetime) -> PlanReport:
    """Queue the reminders due from now on (idempotent)."""
    return _at(engine, settings, now).handle(SCHEDULER, PlanReminders())


def expire(engine: Engine, settings: Settings, *, now: datetime) -> int:
    """Mark vouchers past their last valid day (local date) as expired."""
    return _at(engine, settings, now).handle(SCHEDULER, ExpireVouchers())


def purge(engine: Engine, settings: Settings, *, now: datetime) -> int:
    """Forget the text of messages (sent, received, help) older than `retention_days`, and
    processed Telegram updates older than a week."""
    return _at(engine, settings, now).handle(SCHEDULER, PurgeOldTexts())


async def tick(
    engine: Engine,
    settings: Settings,
    providers: dict[str, Provider],
    *,
    now: datetime,
    config: DispatchConfig | None = None,
) -> str:
    """One pass of everything at `now`; returns a one-line summary."""
    planned = plan(engine, settings, now=now)
    dispatcher = Dispatcher(engine, providers, settings, config=config)
    sent: DispatchReport = await dispatcher.dispatch_due(now)
    expired = expire(engine, settings, now=now)
    purged = purge(engine, settings, now=now)
    return (
        f"tick at {now.isoformat()}: planned ({planned}); dispatched ({sent}); "
        f"expired {expired} vouchers; purged {purged} message texts"
    )


def run_tick(settings: Settings, now: datetime) -> str:
    """`passnum tick`: one pass against the configured database and providers."""
    from bot.outbox.channel_providers import build_providers
    from bot.runtime import open_database

    engine = open_database(settings)
    providers = build_providers(settings)
    try:
        return asyncio.run(_tick_and_close(engine, settings, providers, now))
    finally:
        engine.dispose()


async def _tick_and_close(
    engine: Engine, settings: Settings, providers: dict[str, Provider], now: datetime
) -> str:
    try:
        return await tick(engine, settings, providers, now=now)
    finally:
        for provider in providers.values():
            closer = getattr(provider, "aclose", None)
            if closer is not None:
                await closer()


def build_scheduler(
    settings: Settings,
    engine: Engine,
    providers: dict[str, Provider],
    *,
    config: DispatchConfig | None = None,
) -> AsyncIOScheduler:
    """The server's scheduler (not started). Jobs never overlap themselves (max_instances=1)
    and a missed run is done once, not many times (coalesce)."""
    scheduler = AsyncIOScheduler(
        timezone=settings.tz, job_defaults={"coalesce": True, "max_instances": 1}
    )
    dispatcher = Dispatcher(engine, providers, settings, config=config)
    service = build_staff_service(engine, settings)

    def job(command: Command[Any]) -> Callable[[], Any]:
        return lambda: service.handle(SCHEDULER, command)

    def now() -> datetime:
        return datetime.now(UTC)

    scheduler.add_job(
        job(PlanReminders()),
        "interval",
        seconds=PLAN_EVERY.total_seconds(),
        id="plan-reminders",
        name="plan reminders",
        next_run_time=now(),
    )
    scheduler.add_job(
        dispatcher.dispatch_due,
        "interval",
        id="dispatch-outbox",
        name="dispatch the outbox",
        seconds=DISPATCH_EVERY.total_seconds(),
    )
    scheduler.add_job(
        job(ExpireVouchers()),
        "interval",
        id="expire",
        name="expire vouchers",
        seconds=EXPIRE_EVERY.total_seconds(),
        next_run_time=now(),
    )
    scheduler.add_job(
        job(PurgeOldTexts()),
        "cron",
        hour=3,
        minute=30,
        id="purge-bodies",
        name="purge old message texts",
    )
    return scheduler
