"""Periodic work: plan reminders, dispatch the outbox, expire vouchers, purge old texts.

A handful of interval jobs on an in-memory APScheduler (`build_scheduler`, started by the
server's lifespan): reminders are rows in the outbox, never one scheduler job each, so a
restart loses nothing and several servers can run side by side. `run_tick` does one pass of
everything as if at `now` (the `passnum tick` command, cron, tests).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine

from bot.outbox.dispatcher import DispatchConfig, Dispatcher, DispatchReport
from bot.outbox.providers import Provider
from bot.outbox.quiet_hours import SendingCalendar
from config import Settings
from storage import outbox
from storage.abuse import purge_inbound_counts
from storage.db import unit_of_work
from storage.privacy import purge_inbound_texts
from storage.reminders import Planner, PlanReport, Render, catalog_renderer, expire_vouchers
from storage.telegram_updates import purge_processed_updates

__all__ = ["build_scheduler", "expire", "plan", "purge", "run_tick", "tick"]

log = logging.getLogger(__name__)

PLAN_EVERY = timedelta(minutes=1)
DISPATCH_EVERY = timedelta(seconds=5)
EXPIRE_EVERY = timedelta(hours=1)
# Processed Telegram updates are kept only to recognise a redelivery (Telegram retries for
# hours, not days); their payload is already gone.
TELEGRAM_UPDATE_RETENTION = timedelta(days=7)


def plan(
    engine: Engine, settings: Settings, *, now: datetime, render: Render | None = None
) -> PlanReport:
    """Queue the reminders due from now on (idempotent)."""
    planner = Planner(
        now=now,
        tz=settings.tz,
        two_way=settings.sms_two_way,
        voice_calls=settings.voice_reminders,
        calendar=SendingCalendar(settings),
        render=render or catalog_renderer(settings.tz),
    )
    with unit_of_work(engine) as session:
        report = planner.plan(session)
        session.commit()
    return report


def expire(engine: Engine, settings: Settings, *, now: datetime) -> int:
    """Mark vouchers past their last valid day (local date) as expired."""
    with unit_of_work(engine) as session:
        count = expire_vouchers(session, today=now.astimezone(settings.tz).date(), now=now)
        session.commit()
    return count


def purge(engine: Engine, settings: Settings, *, now: datetime) -> int:
    """Forget the text of messages (sent, received, help) older than `retention_days`, and
    processed Telegram updates older than a week."""
    before = now - timedelta(days=settings.retention_days)
    with unit_of_work(engine) as session:
        count = outbox.purge_bodies(session, before=before, now=now)
        count += purge_inbound_texts(session, before=before)
        purge_inbound_counts(session, before=now - timedelta(days=1))  # flood-limit windows
        purge_processed_updates(session, before=now - TELEGRAM_UPDATE_RETENTION)
        session.commit()
    return count


async def tick(
    engine: Engine,
    settings: Settings,
    providers: dict[str, Provider],
    *,
    now: datetime,
    render: Render | None = None,
    config: DispatchConfig | None = None,
) -> str:
    """One pass of everything at `now`; returns a one-line summary."""
    planned = plan(engine, settings, now=now, render=render)
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
    render = catalog_renderer(settings.tz)

    def now() -> datetime:
        return datetime.now(UTC)

    scheduler.add_job(
        lambda: plan(engine, settings, now=now(), render=render),
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
        lambda: expire(engine, settings, now=now()),
        "interval",
        id="expire",
        name="expire vouchers",
        seconds=EXPIRE_EVERY.total_seconds(),
        next_run_time=now(),
    )
    scheduler.add_job(
        lambda: purge(engine, settings, now=now()),
        "cron",
        hour=3,
        minute=30,
        id="purge-bodies",
        name="purge old message texts",
    )
    return scheduler
