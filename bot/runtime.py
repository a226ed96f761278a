"""Building the pieces from settings: the engine (migrated at start-up) and the assistant."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from bot.log_redaction import install_log_redaction
from config import Settings
from storage.db import create_db_engine
from storage.migrate import upgrade

__all__ = ["open_database", "configure_logging"]


def open_database(settings: Settings, *, migrate: bool = True) -> Engine:
    """An engine on the configured database, brought to the latest schema."""
    engine = create_db_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    return engine


def configure_logging(level: int = logging.INFO) -> None:
    install_log_redaction()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # These log every request at INFO with the recipient's number or the bot token in clear.
    for noisy in ("httpx", "httpcore", "twilio.http_client", "telegram.ext.ExtBot"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # one line every few seconds per job is noise; failures still show at WARNING
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
