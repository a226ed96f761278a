"""From a raw Telegram update to a stored one: what the webhook and the poller share.

An update is read defensively (anyone holding the secret, or a bug, can send anything): it
must be a JSON object with an integer `update_id`; only `message` updates are kept (an
edited message is not a new command); a chat id must fit the database's 64-bit integer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from storage.db import unit_of_work
from storage.telegram_updates import store_update

__all__ = [
    "IncomingUpdate",
    "NotAnUpdate",
    "TelegramInbox",
    "read_update",
    "update_from_object",
]

log = logging.getLogger(__name__)

INT64_MAX = 2**63 - 1
MAX_DEPTH = 32  # a real update nests about ten levels (a reply quoting a message, entities)


class NotAnUpdate(ValueError):
    """The body is not a Telegram update we can read; the reason names no personal data."""


@dataclass(frozen=True)
class IncomingUpdate:
    """A readable update. `keep` is False for kinds we do not act on (edited messages, …)."""

    update_id: int
    chat_id: int | None
    payload: str
    keep: bool


def read_update(body: bytes) -> IncomingUpdate:
    """A webhook body as an update; raises NotAnUpdate on anything malformed."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise NotAnUpdate("nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise NotAnUpdate("not JSON") from None
    return update_from_object(data)


def update_from_object(data: Any) -> IncomingUpdate:
    """A decoded JSON value as an update (the poller gets these already decoded)."""
    if not isinstance(data, dict):
        raise NotAnUpdate("not a JSON object")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or not _is_int64(update_id) or update_id < 0:
        raise NotAnUpdate("no valid update_id")
    if "message" not in data:
        return IncomingUpdate(update_id, None, "", keep=False)
    message = data["message"]
    chat = message.get("chat") if isinstance(message, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if not _is_int64(chat_id):
        raise NotAnUpdate("message without a valid chat id")
    if _depth(data) > MAX_DEPTH:
        raise NotAnUpdate("nested too deeply")
    return IncomingUpdate(update_id, chat_id, json.dumps(_without_nul(data)), keep=True)


def _is_int64(value: Any) -> bool:
    return type(value) is int and -INT64_MAX - 1 <= value <= INT64_MAX


def _depth(value: Any) -> int:
    """Nesting depth, without recursion (a hostile body must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, (dict, list)):
            stack.extend((child, level + 1) for child in children)
    return deepest


def _without_nul(value: Any) -> Any:
    """NUL characters removed from every string: PostgreSQL text cannot hold them."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


class TelegramInbox:
    """Stores updates for the worker, then wakes it."""

    def __init__(
        self,
        engine: Engine,
        *,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.wake = wake
        self.clock = clock or (lambda: datetime.now(UTC))

    async def accept(self, incoming: IncomingUpdate) -> None:
        """Return only once the update is safely stored (or was already, or is one we ignore).

        Database errors propagate: the caller must then not acknowledge the update."""
        if not incoming.keep:
            return
        new = await asyncio.to_thread(self._store, incoming)
        if new:
            self.wake()
        else:
            log.info("telegram update %s delivered again: already stored", incoming.update_id)

    def _store(self, incoming: IncomingUpdate) -> bool:
        with unit_of_work(self.engine) as session:
            new = store_update(
                session,
                update_id=incoming.update_id,
                chat_id=incoming.chat_id,
                payload=incoming.payload,
                now=self.clock(),
            )
            session.commit()
        return new
