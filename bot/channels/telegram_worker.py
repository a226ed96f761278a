"""The worker of `passnum serve` that answers stored Telegram updates.

It claims one pending update at a time (oldest first, never ahead of an earlier update of the
same chat), runs it through the python-telegram-bot Application, then marks it processed.
At least once, answered once: after a crash the update is processed again, and the
conversation's inbound dedupe (provider id = update id) sees the message was already answered
and sends only the part of the answer not yet sent (kept with the inbound row). A database
outage or a failed call to Telegram leaves the update pending for a later try; any other
error marks it failed so that it never blocks the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from telegram import Update
from telegram.error import NetworkError, RetryAfter

from storage.db import unit_of_work
from storage.telegram_updates import (
    ClaimedUpdate,
    claim_next_update,
    finish_update,
    retry_update_later,
)

__all__ = ["TelegramWorker", "remember_update_error"]

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(seconds=10)  # a crashed worker's update is taken again after this
IDLE_POLL_S = 1.0  # updates stored by another process are seen within this
RETRY_AFTER = timedelta(seconds=2)
MAX_ATTEMPTS = 8
ERRORS_KEY = "update_errors"
# the database or Telegram's API is away, not the update (TimedOut is a NetworkError)
PASSING_ERRORS = (OperationalError, InterfaceError, NetworkError, RetryAfter)


async def remember_update_error(update: object, context: Any) -> None:
    """PTB error handler: keep a handler's exception for the worker to judge."""
    if isinstance(update, Update):
        context.application.bot_data.setdefault(ERRORS_KEY, {})[update.update_id] = context.error


class TelegramWorker:
    """Processes stored updates until cancelled; `wake()` says a new one was stored."""

    def __init__(
        self,
        engine: Engine,
        application: Any,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.application = application
        self.clock = clock or (lambda: datetime.now(UTC))
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        """Never ends on its own: one bad update or a database outage is logged, then skipped."""
        while True:
            try:
                busy = await self.process_next()
            except Exception as error:  # noqa: BLE001 - the loop must survive anything
                log.warning("telegram worker: %s; trying again", type(error).__name__)
                busy = False
            if not busy:
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), IDLE_POLL_S)

    async def process_next(self) -> bool:
        """Process one pending update; False when there was none."""
        claimed = await asyncio.to_thread(self._claim)
        if claimed is None:
            return False
        if claimed.attempts > MAX_ATTEMPTS:  # it crashed the process every time: give up
            log.warning("telegram update %s failed too often: skipped", claimed.update_id)
            await asyncio.to_thread(self._finish, claimed.update_id, True)
            return True
        error = await self._process(claimed)
        if error is None:
            await asyncio.to_thread(self._finish, claimed.update_id, False)
        elif isinstance(error, PASSING_ERRORS) and claimed.attempts < MAX_ATTEMPTS:
            log.warning(
                "telegram update %s: %s, will try again", claimed.update_id, type(error).__name__
            )
            await asyncio.to_thread(self._retry, claimed.update_id)
        else:
            log.warning(
                "telegram update %s failed (%s): skipped", claimed.update_id, type(error).__name__
            )
            await asyncio.to_thread(self._finish, claimed.update_id, True)
        return True

    async def _process(self, claimed: ClaimedUpdate) -> BaseException | None:
        """Run the update through the handlers; the error that stopped it, if any."""
        errors: dict[int, BaseException] = self.application.bot_data.setdefault(ERRORS_KEY, {})
        try:
            update = Update.de_json(json.loads(claimed.payload), self.application.bot)
        except Exception as error:  # noqa: BLE001 - a malformed update is data, not a bug here
            return error
        try:
            await self.application.process_update(update)
        except Exception as error:  # noqa: BLE001
            return error
        return errors.pop(update.update_id, None)

    def _claim(self) -> ClaimedUpdate | None:
        with unit_of_work(self.engine) as session:
            claimed = claim_next_update(session, now=self.clock(), lease=CLAIM_LEASE)
            session.commit()
        return claimed

    def _finish(self, update_id: int, failed: bool) -> None:
        with unit_of_work(self.engine) as session:
            finish_update(session, update_id=update_id, failed=failed, now=self.clock())
            session.commit()

    def _retry(self, update_id: int) -> None:
        with unit_of_work(self.engine) as session:
            retry_update_later(session, update_id=update_id, at=self.clock() + RETRY_AFTER)
            session.commit()
