"""Polling mode (no public HTTPS URL): getUpdates, store each update, then confirm it.

Telegram forgets an update once getUpdates is called with an offset past it, so the offset
only moves past updates that are stored: when the database fails, the next call asks from
the same update again and Telegram hands it out again. Updates are fetched as raw JSON, so
one malformed update cannot stop polling.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from telegram.error import TelegramError
from telegram.warnings import PTBUserWarning

from bot.channels.telegram_inbox import NotAnUpdate, TelegramInbox, update_from_object

__all__ = ["TelegramPoller"]

log = logging.getLogger(__name__)

LONG_POLL_S = 25
RETRY_S = 1.0
ALLOWED_UPDATES = ["message"]


class TelegramPoller:
    """Runs until cancelled: fetch, store, confirm (the next fetch's offset)."""

    def __init__(self, bot: Any, inbox: TelegramInbox, *, long_poll: int = LONG_POLL_S) -> None:
        self.bot = bot
        self.inbox = inbox
        self.long_poll = long_poll
        self.offset: int | None = None

    async def run(self) -> None:
        await self._without_webhook()
        while True:
            try:
                batch = await self._fetch()
            except TelegramError as error:
                log.warning("telegram getUpdates failed: %s", type(error).__name__)
                await asyncio.sleep(RETRY_S)
                continue
            if not await self.store_batch(batch):
                await asyncio.sleep(RETRY_S)

    async def store_batch(self, batch: list[Any]) -> bool:
        """Store the updates in order; stop at the first that cannot be stored (False)."""
        for raw in batch:
            try:
                await self.inbox.accept(update_from_object(raw))
            except NotAnUpdate as reason:
                log.warning("telegram update skipped: %s", reason)
            except Exception as error:  # noqa: BLE001 - the database: ask again later
                log.warning("telegram update not stored (%s): asked again", type(error).__name__)
                return False
            self._confirm_past(raw)
        return True

    def _confirm_past(self, raw: Any) -> None:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if type(update_id) is int and (self.offset is None or update_id >= self.offset):
            self.offset = update_id + 1

    async def _fetch(self) -> list[Any]:
        api_kwargs: dict[str, Any] = {"timeout": self.long_poll, "allowed_updates": ALLOWED_UPDATES}
        if self.offset is not None:
            api_kwargs["offset"] = self.offset
        with warnings.catch_warnings():  # PTB would rather parse them: exactly what we avoid
            warnings.simplefilter("ignore", PTBUserWarning)
            result = await self.bot.do_api_request(
                "getUpdates", api_kwargs=api_kwargs, read_timeout=self.long_poll + 10
            )
        return list(result) if isinstance(result, list) else []

    async def _without_webhook(self) -> None:
        """getUpdates is refused while a webhook is set."""
        while True:
            try:
                await self.bot.delete_webhook(drop_pending_updates=False)
                return
            except TelegramError as error:
                log.warning("telegram deleteWebhook failed: %s", type(error).__name__)
                await asyncio.sleep(RETRY_S)
