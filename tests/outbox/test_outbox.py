"""The outbox table's contract, on SQLite and PostgreSQL: dedupe, claims, callbacks, bulk."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from storage import outbox
from storage.db import read_only, unit_of_work
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
    claimed = outbox.claim_batch(engine, channel="sms", limit=2, now=NOW, claim_for=CLAIM)
    outbox.start_attempts(engine, claimed[1:], now=NOW)
    with unit_of_work(engine) as session:
        outbox.mark_sent(session, ids[0], provider_id="SM3", now=NOW)
        since = NOW - timedelta(hours=9)
        # sent, and started: 2 + 2; the third, claimed but not started, not yet
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
        assert outbox.enqueue_many(session, rows, now=NOW) == 20_000
        session.commit()
    with unit_of_work(engine) as session:
        again = rows[-10:] + [{**rows[0], "dedupe_key": "bulk:new"}]
        assert outbox.enqueue_many(session, again, now=NOW) == 1  # the new rows, counted
        session.commit()
        assert outbox.count_by_status(session) == {"queued": 20_001}


def _cap(day_offset: int = 0, limit: int = 5) -> outbox.DailyCap:
    midnight = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(days=day_offset)
    return outbox.DailyCap(day=midnight.date(), limit=limit, since=midnight)


def _spent(engine, cap: outbox.DailyCap) -> int:  # type: ignore[no-untyped-def]
    with read_only(engine) as session:
        return outbox.spent_on(session, channel="sms", cap=cap)


def test_daily_cap_counter_starts_only_what_fits(engine) -> None:
    ids = _queue(engine, 4, segments=2)
    batch = outbox.claim_batch(engine, channel="sms", limit=4, now=NOW, claim_for=CLAIM)
    wave = outbox.begin_wave(engine, batch, now=NOW, cap=_cap())
    assert [m.id for m in wave.started] == ids[:2]  # 4 segments; a third would make 6
    assert [m.id for m in wave.over_cap] == ids[2:]
    assert _row(engine, ids[2]).attempt_started_at is None
    assert _spent(engine, _cap()) == 4
    again = outbox.begin_wave(engine, wave.over_cap, now=NOW, cap=_cap())
    assert again.started == [] and _spent(engine, _cap()) == 4
    with unit_of_work(engine) as session:  # a refused message gives its segments back
        outbox.refund_spend(session, channel="sms", day=_cap().day, segments=2)
        session.commit()
    assert _spent(engine, _cap()) == 2
    assert _spent(engine, _cap(day_offset=1)) == 0  # a new day starts at zero
    later = outbox.begin_wave(engine, wave.over_cap, now=NOW, cap=_cap(day_offset=1))
    assert [m.id for m in later.started] == ids[2:]
    assert _spent(engine, _cap(day_offset=1)) == 4 and _spent(engine, _cap()) == 2


def test_first_counter_starts_from_the_sent_history(engine) -> None:
    """The day the counter is installed, what was already sent that day still counts."""
    ids = _queue(engine, 2, segments=3)
    outbox.claim_batch(engine, channel="sms", limit=2, now=NOW, claim_for=CLAIM)
    with unit_of_work(engine) as session:
        outbox.mark_sent(session, ids[0], provider_id="SM1", now=NOW)
        session.commit()
    assert _spent(engine, _cap(limit=10)) == 3
    [more] = _queue(engine, 1, segments=3, dedupe_key="more")
    batch = outbox.claim_batch(engine, channel="sms", limit=1, now=NOW, claim_for=CLAIM)
    assert [m.id for m in outbox.begin_wave(engine, batch, now=NOW, cap=_cap(limit=7)).started] == [
        more
    ]
    assert _spent(engine, _cap(limit=7)) == 6


def test_claims_read_the_index_in_order(engine) -> None:
    """The claim's pick walks ix_outbound_claim and stops at the limit (no sort of every due
    row): the query plan says so on both databases."""
    _queue(engine, 3)
    pick = (
        "SELECT id FROM outboundmessage WHERE channel = 'sms' AND status = 'queued' "
        "AND next_attempt_at <= CURRENT_TIMESTAMP ORDER BY next_attempt_at, id LIMIT 5"
    )
    with unit_of_work(engine) as session:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in session.execute(text("EXPLAIN QUERY PLAN " + pick)))
            assert "ix_outbound_claim" in plan and "TEMP B-TREE" not in plan
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(r[0] for r in session.execute(text("EXPLAIN " + pick)))
            assert "ix_outbound_claim" in plan and "Sort" not in plan


def test_a_wave_waits_for_another_holding_the_days_counter(engine) -> None:
    """What keeps two dispatchers within the cap: while one transaction holds the day's
    counter (between reading what is left and adding its wave), another wave cannot start."""
    _queue(engine, 2)
    batch = outbox.claim_batch(engine, channel="sms", limit=2, now=NOW, claim_for=CLAIM)
    cap = _cap(limit=1)
    with unit_of_work(engine) as session:  # the day's counter exists (committed)
        outbox._locked_spend(session, "sms", cap)
        session.commit()
    with ThreadPoolExecutor(max_workers=1) as pool:
        with unit_of_work(engine) as holder:
            assert outbox._locked_spend(holder, "sms", cap) == 0
            other = pool.submit(outbox.begin_wave, engine, batch[1:], now=NOW, cap=cap)
            time.sleep(0.5)
            assert not other.done(), "the second wave went ahead while the counter was held"
            outbox._add_spend(holder, "sms", cap.day, 1)  # the first takes the last segment
            holder.commit()
        wave = other.result(timeout=10)
    assert wave.started == [] and wave.over_cap == batch[1:]
    assert _spent(engine, cap) == 1
