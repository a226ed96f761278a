"""The outbox table's contract, on SQLite and PostgreSQL: dedupe, claims, callbacks, bulk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from storage import outbox
from storage.db import unit_of_work
from storage.models import OutboundMessage

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CLAIM = timedelta(minutes=5)


def _queue(engine, n: int = 1, **extra: object) -> list[int]:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        ids = [
            outbox.enqueue(
                session, channel="sms", address=f"+3361234{i:04d}", body="Bonjour", now=NOW, **extra
            )
            for i in range(n)
        ]
        session.commit()
    return ids  # type: ignore[return-value]


def _row(engine, message_id: int) -> OutboundMessage:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.get(OutboundMessage, message_id)  # type: ignore[return-value]


def test_duplicate_dedupe_key_is_a_no_op(engine) -> None:
    first = _queue(engine, dedupe_key="j1:booking:1")
    again = _queue(engine, dedupe_key="j1:booking:1")
    assert first[0] is not None and again == [None]


def test_claim_is_exclusive_and_comes_back_after_timeout(engine) -> None:
    _queue(engine, 3)
    first = outbox.claim_batch(engine, channel="sms", limit=2, now=NOW, claim_for=CLAIM)
    second = outbox.claim_batch(engine, channel="sms", limit=5, now=NOW, claim_for=CLAIM)
    assert len(first) == 2 and len(second) == 1
    assert outbox.claim_batch(engine, channel="sms", limit=5, now=NOW, claim_for=CLAIM) == []
    assert outbox.claim_batch(engine, channel="telegram", limit=5, now=NOW, claim_for=CLAIM) == []
    later = NOW + CLAIM + timedelta(seconds=1)  # the worker died: its rows come back
    taken_over = outbox.claim_batch(engine, channel="sms", limit=5, now=later, claim_for=CLAIM)
    assert sorted(m.id for m in taken_over) == sorted(m.id for m in first + second)
    assert {m.attempts for m in taken_over} == {2}


def test_send_after_and_not_after(engine) -> None:
    [later] = _queue(engine, send_after=NOW + timedelta(hours=1))
    [stale] = _queue(engine, not_after=NOW - timedelta(minutes=1))
    with unit_of_work(engine) as session:
        assert outbox.cancel_expired(session, now=NOW) == 1
        session.commit()
    assert _row(engine, stale).status == "cancelled"
    assert outbox.claim_batch(engine, channel="sms", limit=5, now=NOW, claim_for=CLAIM) == []
    due = outbox.claim_batch(
        engine, channel="sms", limit=5, now=NOW + timedelta(hours=1), claim_for=CLAIM
    )
    assert [m.id for m in due] == [later]


def test_status_callbacks_only_move_forward(engine) -> None:
    [mid] = _queue(engine)
    outbox.claim_batch(engine, channel="sms", limit=1, now=NOW, claim_for=CLAIM)
    with unit_of_work(engine) as session:
        assert outbox.mark_sent(session, mid, provider_id="SM1", now=NOW)
        assert outbox.apply_status_callback(session, provider_id="SM1", status="delivered", now=NOW)
        assert not outbox.apply_status_callback(session, provider_id="SM1", status="sent", now=NOW)
        assert not outbox.apply_status_callback(
            session, provider_id="SM1", status="queued", now=NOW
        )
        assert not outbox.apply_status_callback(
            session, provider_id="SM1", status="failed", now=NOW
        )
        session.commit()
    assert _row(engine, mid).status == "delivered"


def test_failed_callback_is_terminal(engine) -> None:
    [mid] = _queue(engine)
    outbox.claim_batch(engine, channel="sms", limit=1, now=NOW, claim_for=CLAIM)
    with unit_of_work(engine) as session:
        outbox.mark_sent(session, mid, provider_id="SM2", now=NOW)
        assert outbox.apply_status_callback(
            session, provider_id="SM2", status="undelivered", now=NOW, error="30003"
        )
        assert not outbox.apply_status_callback(
            session, provider_id="SM2", status="delivered", now=NOW
        )
        session.commit()
    row = _row(engine, mid)
    assert (row.status, row.error) == ("failed", "30003")


def test_segments_today_and_purge(engine) -> None:
    ids = _queue(engine, 3, segments=2)
    outbox.claim_batch(engine, channel="sms", limit=2, now=NOW, claim_for=CLAIM)
    with unit_of_work(engine) as session:
        outbox.mark_sent(session, ids[0], provider_id="SM3", now=NOW)
        since = NOW - timedelta(hours=9)
        assert outbox.segments_sent_since(session, channel="sms", since=since) == 4
        assert outbox.purge_bodies(session, before=NOW + timedelta(days=1), now=NOW) == 1
        session.commit()
    assert _row(engine, ids[0]).body is None and _row(engine, ids[1]).body == "Bonjour"


def test_bulk_enqueue_skips_duplicates(engine) -> None:
    # its speed is measured by `passnum bench` (broadcast_enqueue), not here
    rows = [
        {"channel": "sms", "address": f"+336{i:08d}", "body": "Rappel", "dedupe_key": f"bulk:{i}"}
        for i in range(20_000)
    ]
    with unit_of_work(engine) as session:
        outbox.enqueue_many(session, rows, now=NOW)
        session.commit()
    with unit_of_work(engine) as session:
        outbox.enqueue_many(session, rows[-10:] + [{**rows[0], "dedupe_key": "bulk:new"}], now=NOW)
        session.commit()
        assert outbox.count_by_status(session) == {"queued": 20_001}
