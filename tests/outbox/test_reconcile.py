"""Rows a dispatcher left "sent, unconfirmed" (it died during the provider call) are settled
by asking the provider once their claim expired: found → sent, not there → sent again, no
lookup (Telegram) → unconfirmed and not resent. The state is made by the real claim and
start_attempt, as a dispatcher leaves it when killed between them and the outcome."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from bot.fakes.servers import FakeTelegram
from bot.outbox.channel_providers import build_providers
from bot.outbox.dispatcher import Dispatcher
from storage import outbox
from storage.db import read_only, unit_of_work
from storage.models import OutboundMessage
from tests.outbox.conftest import make_settings, paris

MONDAY_10 = paris("2026-11-30 10:00")
LATER = MONDAY_10 + timedelta(minutes=6)  # past the 5-minute claim


def _caught_mid_call(engine, channel: str, address: str, body: str) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        outbox.enqueue(session, channel=channel, address=address, body=body, now=MONDAY_10)
        session.commit()
    [row] = outbox.claim_batch(
        engine, channel=channel, limit=10, now=MONDAY_10, claim_for=timedelta(minutes=5)
    )
    assert outbox.start_attempts(engine, [row], now=MONDAY_10) == [row]
    return row.id


def _row(engine, message_id: int) -> OutboundMessage:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.get(OutboundMessage, message_id)  # type: ignore[return-value]


async def test_a_row_the_provider_has_is_recorded_sent_not_resent(
    engine, gateway, providers, settings, fast
) -> None:
    mid = _caught_mid_call(engine, "sms", "+33612340001", "Rappel")
    await providers["sms"].send("+33612340001", "Rappel")  # it reached the provider
    dispatcher = Dispatcher(engine, providers, settings, config=fast)
    assert (await dispatcher.dispatch_due(MONDAY_10 + timedelta(minutes=1))).sent == 0  # claimed
    report = await dispatcher.dispatch_due(LATER)
    assert report.sent == 1 and len(gateway.received) == 1
    row = _row(engine, mid)
    assert (row.status, row.provider_id, row.error) == ("sent", gateway.received[0].id, None)


async def test_a_row_the_provider_never_got_is_sent_once(
    engine, gateway, providers, settings, fast
) -> None:
    mid = _caught_mid_call(engine, "sms", "+33612340002", "Rappel")
    dispatcher = Dispatcher(engine, providers, settings, config=fast)
    await dispatcher.dispatch_due(LATER)
    await dispatcher.dispatch_due(LATER + timedelta(minutes=1))
    assert [r.text for r in gateway.received] == ["Rappel"]
    row = _row(engine, mid)
    assert row.status == "sent" and row.attempts == 2 and row.attempt_started_at is None


async def test_a_row_sent_again_after_a_crash_counts_once_against_the_cap(
    engine, gateway, providers, settings, fast
) -> None:
    with unit_of_work(engine) as session:
        outbox.enqueue(session, channel="sms", address="+33612340003", body="Rappel", now=MONDAY_10)
        session.commit()
    [row] = outbox.claim_batch(
        engine, channel="sms", limit=10, now=MONDAY_10, claim_for=timedelta(minutes=5)
    )
    midnight = MONDAY_10.replace(hour=0)
    cap = outbox.DailyCap(day=MONDAY_10.date(), limit=settings.sms_daily_cap, since=midnight)
    assert outbox.begin_wave(engine, [row], now=MONDAY_10, cap=cap).started == [row]
    dispatcher = Dispatcher(engine, providers, settings, config=fast)
    await dispatcher.dispatch_due(LATER)  # not at the provider: its segment is given back
    await dispatcher.dispatch_due(LATER + timedelta(minutes=1))  # sent, and counted again
    assert [r.text for r in gateway.received] == ["Rappel"]
    with read_only(engine) as session:
        assert outbox.spent_on(session, channel="sms", cap=cap) == 1


async def test_without_a_lookup_the_row_stays_unconfirmed_and_is_not_resent(engine) -> None:
    mid = _caught_mid_call(engine, "telegram", "tg:42", "Rappel")
    with FakeTelegram() as telegram:
        settings = make_settings(telegram_token="123:T", telegram_api_base=telegram.url)
        dispatcher = Dispatcher(engine, build_providers(settings), settings)
        report = await dispatcher.dispatch_due(LATER)
        await dispatcher.dispatch_due(LATER + timedelta(hours=1))
        assert telegram.calls("sendMessage") == []
    row = _row(engine, mid)
    assert report.unconfirmed == 1 and row.status == "sent"
    assert row.error.startswith("unconfirmed: the dispatcher stopped during the provider call")
