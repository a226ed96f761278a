"""Stored Telegram updates: a redelivery is stored once, the worker's claims keep each chat's
order and never hand one update to two workers, and processed ones are purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from storage.db import unit_of_work
from storage.models import TelegramUpdate
from storage.telegram_updates import (
    claim_next_update,
    finish_update,
    purge_processed_updates,
    store_update,
)

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=10)


def _store(engine: Engine, update_id: int, chat_id: int) -> bool:
    with unit_of_work(engine) as session:
        new = store_update(session, update_id=update_id, chat_id=chat_id, payload="{}", now=NOW)
        session.commit()
    return new


def _claim(engine: Engine, now: datetime = NOW) -> int | None:
    with unit_of_work(engine) as session:
        claimed = claim_next_update(session, now=now, lease=LEASE)
        session.commit()
    return claimed.update_id if claimed else None


def _finish(engine: Engine, update_id: int, now: datetime = NOW) -> None:
    with unit_of_work(engine) as session:
        finish_update(session, update_id=update_id, failed=False, now=now)
        session.commit()


def test_the_same_update_id_is_stored_once(engine: Engine) -> None:
    assert _store(engine, 1, 10) is True
    assert _store(engine, 1, 10) is False


def test_claims_keep_each_chats_order_and_are_exclusive(engine: Engine) -> None:
    for update_id, chat in ((1, 10), (2, 10), (3, 20)):
        _store(engine, update_id, chat)
    assert _claim(engine) == 1
    assert _claim(engine) == 3, "chat 10's second update waits for its first"
    assert _claim(engine) is None
    _finish(engine, 1)
    assert _claim(engine) == 2
    assert _claim(engine) is None
    assert _claim(engine, NOW + LEASE + timedelta(seconds=1)) == 2, "a lapsed claim is retaken"


def test_processed_updates_lose_their_payload_and_are_purged(engine: Engine) -> None:
    _store(engine, 1, 10)
    _store(engine, 2, 10)
    assert _claim(engine) == 1
    _finish(engine, 1)
    with unit_of_work(engine) as session:
        assert session.get(TelegramUpdate, 1).payload is None  # type: ignore[union-attr]
        assert purge_processed_updates(session, before=NOW + timedelta(days=8)) == 1
        session.commit()
        assert session.get(TelegramUpdate, 1) is None
        assert session.get(TelegramUpdate, 2) is not None, "a pending update is never purged"
