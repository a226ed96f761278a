"""The dispatcher through real HTTP to the loopback gateway, with a controlled clock."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session

from bot.fakes.provider import LoopbackProvider
from bot.outbox.dispatcher import DispatchConfig, Dispatcher
from bot.outbox.providers import Outcome, SendResult
from storage import outbox
from storage.db import unit_of_work
from storage.models import Beneficiary, OutboundMessage
from tests import factories
from tests.outbox.conftest import UNPACED, make_settings, paris

MONDAY_10 = paris("2026-11-30 10:00")


def _queue(engine, n: int = 1, *, beneficiary_id=None, **extra) -> list[int]:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        ids = [
            outbox.enqueue(
                session,
                channel=extra.pop("channel", "sms") if i == n - 1 else "sms",
                address=f"+3361234{i:04d}",
                body=f"Message {i}",
                now=MONDAY_10,
                beneficiary_id=beneficiary_id,
                **extra,
            )
            for i in range(n)
        ]
        session.commit()
    return ids  # type: ignore[return-value]


def _row(engine, message_id: int) -> OutboundMessage:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.get(OutboundMessage, message_id)  # type: ignore[return-value]


async def test_sends_each_message_once(engine, gateway, providers, settings, fast) -> None:
    ids = _queue(engine, 25)
    dispatcher = Dispatcher(engine, providers, settings, config=fast)
    report = await dispatcher.dispatch_due(MONDAY_10)
    again = await dispatcher.dispatch_due(MONDAY_10 + timedelta(minutes=1))
    assert report.sent == 25 and again.sent == 0
    assert sorted(r.text for r in gateway.received) == sorted(f"Message {i}" for i in range(25))
    row = _row(engine, ids[0])
    assert row.status == "sent" and row.provider_id.startswith("FAKE") and row.attempts == 1


async def test_retries_429_and_500_with_backoff(engine, gateway, providers, settings, fast) -> None:
    [mid] = _queue(engine)
    gateway.state.retry_after = 90
    gateway.script("429", "500")
    dispatcher = Dispatcher(engine, providers, settings, config=fast)
    assert (await dispatcher.dispatch_due(MONDAY_10)).retried == 1
    assert _row(engine, mid).next_attempt_at == MONDAY_10 + timedelta(seconds=90)  # Retry-After
    assert (await dispatcher.dispatch_due(MONDAY_10 + timedelta(seconds=89))).retried == 0
    t2 = MONDAY_10 + timedelta(seconds=90)
    assert (await dispatcher.dispatch_due(t2)).retried == 1
    assert _row(engine, mid).next_attempt_at == t2 + timedelta(seconds=60)  # 30 s · 2^1
    assert (await dispatcher.dispatch_due(t2 + timedelta(seconds=60))).sent == 1
    row = _row(engine, mid)
    assert (row.status, row.attempts, len(gateway.received)) == ("sent", 3, 1)


async def test_gives_up_after_max_attempts(engine, gateway, providers, settings) -> None:
    [mid] = _queue(engine)
    gateway.script("500", "500")
    config = DispatchConfig(pacing=UNPACED, max_attempts=2, backoff_base=timedelta(seconds=1))
    dispatcher = Dispatcher(engine, providers, settings, config=config)
    await dispatcher.dispatch_due(MONDAY_10)
    await dispatcher.dispatch_due(MONDAY_10 + timedelta(minutes=1))
    row = _row(engine, mid)
    assert row.status == "failed" and row.error.startswith("gave up after 2 attempts")


async def test_permanent_failure_and_stop_reply(engine, gateway, providers, settings, fast) -> None:
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session, phone="+33612340000").id
        session.commit()
    bad, stopped = _queue(engine, 2, beneficiary_id=person)
    gateway.script("permanent", "optout")
    one_by_one = DispatchConfig(pacing=UNPACED, concurrency=1)
    await Dispatcher(engine, providers, settings, config=one_by_one).dispatch_due(MONDAY_10)
    assert "21211" in _row(engine, bad).error and _row(engine, bad).status == "failed"
    assert "21610" in _row(engine, stopped).error
    with Session(engine) as session:
        assert session.get(Beneficiary, person).opted_out


async def test_unknown_outcome_is_not_resent(engine, gateway, settings, fast) -> None:
    [mid] = _queue(engine)
    gateway.state.hang = 1.0
    gateway.script("timeout")
    providers = {"sms": LoopbackProvider("sms", gateway.url, timeout=0.3)}
    report = await Dispatcher(engine, providers, settings, config=fast).dispatch_due(MONDAY_10)
    row = _row(engine, mid)
    assert report.unconfirmed == 1 and row.status == "sent" and row.error.startswith("unconfirmed")
    await Dispatcher(engine, providers, settings, config=fast).dispatch_due(MONDAY_10)
    assert gateway.requests == 1


class _NotConfigured:
    channel = "sms"

    async def send(self, address: str, text: str, *, keyboard=None) -> SendResult:  # type: ignore[no-untyped-def]
        return SendResult(Outcome.NOT_CONFIGURED, error="no credentials")


async def test_no_sms_provider_keeps_messages(engine, settings, fast, caplog) -> None:
    ids = _queue(engine, 3)
    dispatcher = Dispatcher(engine, {"sms": _NotConfigured()}, settings, config=fast)
    with caplog.at_level(logging.WARNING, logger="bot.outbox.dispatcher"):
        await dispatcher.dispatch_due(MONDAY_10)
        await dispatcher.dispatch_due(MONDAY_10 + timedelta(hours=1))
    assert {_row(engine, i).status for i in ids} == {"queued"}
    assert {_row(engine, i).attempts for i in ids} == {0}
    notes = [r.message for r in caplog.records if "not sent" in r.message]
    assert notes == ["not sent: no SMS provider configured"]


async def test_opted_out_and_expired_are_cancelled_at_send_time(
    engine, gateway, providers, settings, fast
) -> None:
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session, phone="+33612340001")
        person.opted_out = True
        session.commit()
        person_id = person.id
    [to_stopped] = _queue(engine, beneficiary_id=person_id)
    [late] = _queue(engine, not_after=MONDAY_10 + timedelta(minutes=5))
    await Dispatcher(engine, providers, settings, config=fast).dispatch_due(
        MONDAY_10 + timedelta(minutes=6)
    )
    assert _row(engine, to_stopped).status == "cancelled"
    assert _row(engine, late).status == "cancelled"
    assert gateway.received == []


async def test_nothing_leaves_in_quiet_hours(engine, gateway, providers, settings, fast) -> None:
    [mid] = _queue(engine)
    dispatcher = Dispatcher(engine, providers, settings, config=fast)
    for quiet in (
        "2026-11-30 21:00",
        "2026-12-01 07:59",
        "2026-12-06 11:00",
        "2026-12-25 11:00",
        "2027-07-14 11:00",
    ):
        await dispatcher.dispatch_due(paris(quiet))
    assert gateway.received == [] and _row(engine, mid).status == "queued"
    await dispatcher.dispatch_due(paris("2027-07-15 08:00"))
    assert len(gateway.received) == 1


async def test_daily_sms_cap(engine, gateway, providers, fast, caplog) -> None:
    settings = make_settings(sms_daily_cap=5)
    _queue(engine, 4, segments=2)
    dispatcher = Dispatcher(engine, providers, settings, config=fast)
    with caplog.at_level(logging.ERROR, logger="bot.outbox.dispatcher"):
        first = await dispatcher.dispatch_due(MONDAY_10)
        await dispatcher.dispatch_due(MONDAY_10 + timedelta(hours=1))
    assert first.sent == 2 and len(gateway.received) == 2  # 4 segments; a 3rd would make 6
    assert len([r for r in caplog.records if "daily cap" in r.message]) == 1
    await dispatcher.dispatch_due(MONDAY_10 + timedelta(days=1))
    assert len(gateway.received) == 4


async def test_telegram_goes_through_its_provider(engine, gateway, providers, settings, fast):  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        outbox.enqueue(
            session, channel="telegram", address="tg:42", body="Bonjour ✨", now=MONDAY_10
        )
        session.commit()
    await Dispatcher(engine, providers, settings, config=fast).dispatch_due(MONDAY_10)
    assert gateway.texts_to("tg:42") == ["Bonjour ✨"]
