"""The HTTP app (`passnum serve`): webhooks, health, staff API; built by a factory from settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from bot.body_limit import BodySizeLimit
from bot.bootstrap import build_staff_service
from bot.channels.assistant import Assistant
from bot.channels.presenter import Presenter
from bot.runtime import configure_logging, open_database
from bot.staff import StaffService
from config import Settings, load_settings
from storage.db import is_sqlite

__all__ = [
    "Services",
    "WorkersRefused",
    "create_app",
    "run_server",
    "worker_app",
    "workers_refusal",
]

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the routes share; kept on `app.state.services`."""

    settings: Settings
    engine: Engine
    assistant: Assistant
    presenter: Presenter
    telegram: Any = None  # telegram.ext.Application when a token is configured
    telegram_inbox: Any = None  # bot.channels.telegram_inbox.TelegramInbox, likewise
    extras: dict[str, Any] = field(default_factory=dict)
    _limiter: Any = None
    staff: StaffService = field(init=False)

    def __post_init__(self) -> None:
        self.staff = build_staff_service(self.engine, self.settings)

    @property
    def bot_username(self) -> str:
        """The Telegram bot's @username, for deep links; the usual name when Telegram has not
        started (no token, or getMe not answered yet)."""
        try:
            return str(self.telegram.bot.username)
        except Exception:  # not started or no token: the usual name
            return "passnum_bot"

    @property
    def conversations_on_loop(self) -> bool:
        """SQLite conversations run on the event loop (bot.channels.sms_routes)."""
        return is_sqlite(self.engine)

    @property
    def conversation_limiter(self) -> anyio.CapacityLimiter:
        """Threads that may run conversations at once. SQLite has one writer: more threads
        would only queue on its lock and fight for the GIL. PostgreSQL: the pool's size."""
        if self._limiter is None:
            size = 1 if is_sqlite(self.engine) else 8
            self._limiter = anyio.CapacityLimiter(size)
        return self._limiter


def create_app(
    settings: Settings, *, engine: Engine | None = None, run_scheduler: bool = True
) -> FastAPI:
    """Build the app; the lifespan starts and stops Telegram and the scheduler."""
    from bot.api.health import router as health_router
    from bot.api.privacy import router as privacy_router
    from bot.api.routes import router as staff_router
    from bot.channels.sms_routes import router as twilio_router
    from bot.channels.telegram_routes import router as telegram_router
    from bot.channels.voice_routes import router as voice_router
    from bot.console import mount_console

    engine = engine or open_database(settings)
    assistant = Assistant(engine, settings)
    services = Services(settings, engine, assistant, Presenter(settings))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if settings.telegram_token:
                await stack.enter_async_context(_telegram_running(services))
            if run_scheduler:
                await stack.enter_async_context(_scheduler_running(services))
            yield

    app = FastAPI(
        title="passnum",
        version="0.1.0",
        lifespan=lifespan,
        description="Pass numérique assistant: webhooks and staff API.",
    )
    app.state.services = services
    app.add_middleware(BodySizeLimit)
    routers = (health_router, twilio_router, voice_router, telegram_router, staff_router)
    for router in (*routers, privacy_router):
        app.include_router(router)
    mount_console(app)
    return app


@contextlib.asynccontextmanager
async def _telegram_running(services: Services) -> AsyncIterator[None]:
    """The Application, the worker answering stored updates, and the poller or the webhook."""
    from bot.channels.telegram_bot import build_telegram_application, webhook_mode
    from bot.channels.telegram_inbox import TelegramInbox
    from bot.channels.telegram_polling import TelegramPoller
    from bot.channels.telegram_worker import TelegramWorker

    settings = services.settings
    application = build_telegram_application(settings, services.assistant, services.presenter)
    worker = TelegramWorker(services.engine, application)
    inbox = TelegramInbox(services.engine, wake=worker.wake)
    services.telegram, services.telegram_inbox = application, inbox
    async with application:
        tasks = [asyncio.create_task(worker.run(), name="telegram-worker")]
        if webhook_mode(settings):
            await application.bot.set_webhook(
                url=settings.public_url.rstrip("/") + "/telegram/webhook",
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=["message"],
            )
            log.info("telegram: webhook at %s/telegram/webhook", settings.public_url.rstrip("/"))
        else:
            poller = TelegramPoller(application.bot, inbox)
            tasks.append(asyncio.create_task(poller.run(), name="telegram-poller"))
            log.info("telegram: polling (no public HTTPS URL with a webhook secret)")
        await application.start()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await application.stop()


@contextlib.asynccontextmanager
async def _scheduler_running(services: Services) -> AsyncIterator[None]:
    from bot.outbox.channel_providers import build_providers
    from bot.outbox.scheduler import build_scheduler

    providers = build_providers(services.settings, telegram=services.telegram)
    scheduler = build_scheduler(services.settings, services.engine, providers)
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        for provider in providers.values():  # the SMS provider's keep-alive connections
            closer = getattr(provider, "aclose", None)
            if closer is not None:
                await closer()


GIL_SWITCH_INTERVAL_S = 0.001


def tune_interpreter() -> None:
    """Conversations run in worker threads next to the event loop; Python hands the GIL
    between them every 5 ms by default, which becomes the webhook's latency and halves its
    throughput (see `passnum bench`). 1 ms keeps both moving."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


class WorkersRefused(ValueError):
    """`--workers N` asked where several processes cannot work."""


def workers_refusal(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run `workers` processes, or None when they can."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers == 1:
        return None
    if settings.database_url.startswith("sqlite"):
        return (
            "--workers > 1 needs PostgreSQL: SQLite has one writer, so more processes only "
            "queue on its lock (set PASSNUM_DATABASE_URL to a postgresql+psycopg:// URL)"
        )
    from bot.channels.telegram_bot import webhook_mode

    if settings.telegram_token and not webhook_mode(settings):
        return (
            "--workers > 1 needs Telegram in webhook mode (an https PASSNUM_PUBLIC_URL and "
            "PASSNUM_TELEGRAM_WEBHOOK_SECRET): polling must run in one process only"
        )
    return None


def worker_app() -> FastAPI:
    """The app of one `passnum serve --workers N` process: settings from the environment (as
    the parent read them), the schema already brought up to date by the parent."""
    tune_interpreter()
    configure_logging()
    settings = load_settings()
    return create_app(settings, engine=open_database(settings, migrate=False))


def run_server(settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    refusal = workers_refusal(settings, workers)
    if refusal is not None:
        raise WorkersRefused(refusal)
    tune_interpreter()
    configure_logging()
    if workers > 1:
        open_database(settings).dispose()  # migrate once, before the workers start
        log.info("passnum on http://%s:%s, %d worker processes", host, port, workers)
        uvicorn.run(
            "bot.server:worker_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            proxy_headers=True,
        )
        return
    app = create_app(settings)
    log.info("passnum on http://%s:%s (database %s)", host, port, services_url(app))
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True)


def services_url(app: FastAPI) -> str:
    return str(app.state.services.engine.url.render_as_string(hide_password=True))
