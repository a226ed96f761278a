"""Flood and pumping limits on the inbound SMS webhook: beyond a limit, no reply (no cost);
but a flood from one address, a known person or another channel never silences a newcomer,
and the limits hold when the messages arrive all at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlmodel import Session

from storage.abuse import InboundLimits
from storage.models import InboundMessage
from tests.e2e.conftest import LiveApp
from tests.e2e.test_channels import _telegram_message

DEMO_PHONE = "+33612345678"


def _replies(answer) -> int:  # type: ignore[no-untyped-def]
    assert answer.status_code == 200
    return int(answer.text.count("<Message>"))


def _inbound(app: LiveApp, channel: str) -> int:
    with Session(app.engine) as session:
        query = select(func.count()).select_from(InboundMessage)
        return int(session.scalar(query.where(InboundMessage.channel == channel)) or 0)


def test_one_address_flooding_gets_no_reply_beyond_the_limit(live_app: LiveApp) -> None:
    live_app.services.assistant.limits = InboundLimits(per_address=3)
    answered = [_replies(live_app.sms("MENU")) for _ in range(6)]
    assert [n > 0 for n in answered] == [True, True, True, False, False, False]
    # someone else is still answered
    assert _replies(live_app.sms("MENU", sender="+33611111111")) > 0


def test_one_unknown_number_flooding_does_not_silence_a_newcomer(live_app: LiveApp) -> None:
    live_app.services.assistant.limits = InboundLimits(per_address=3, unknown_global=5)
    for _ in range(12):
        live_app.sms("bonjour", sender="+33600000001")
    assert _replies(live_app.sms("bonjour", sender="+33600000002")) > 0


def test_known_people_chatting_do_not_silence_a_newcomer(live_app: LiveApp) -> None:
    live_app.services.assistant.limits = InboundLimits(unknown_global=5)
    for _ in range(8):
        assert _replies(live_app.sms("MENU", sender=DEMO_PHONE)) > 0
    assert _replies(live_app.sms("bonjour", sender="+33600000003")) > 0


def test_one_telegram_chat_flooding_does_not_silence_new_numbers(live_app: LiveApp) -> None:
    live_app.services.assistant.limits = InboundLimits(per_address=3, unknown_global=5)
    for update_id in range(1, 13):
        live_app.telegram_update(_telegram_message(update_id, 9090, text="bonjour"))
    live_app.wait_for(lambda: _inbound(live_app, "telegram") == 12)
    assert _replies(live_app.sms("bonjour", sender="+33600000004")) > 0


def test_over_the_unknown_cap_new_numbers_still_get_their_first_messages(
    live_app: LiveApp,
) -> None:
    live_app.services.assistant.limits = InboundLimits(
        unknown_global=4,
        unknown_global_window=timedelta(minutes=10),
        unknown_over_cap_per_address=2,
    )
    senders = [f"+336000000{n:02d}" for n in range(10, 18)]
    answered = [_replies(live_app.sms("bonjour", sender=s)) for s in senders]
    assert all(answered), "every newcomer's first message is answered"
    last = senders[-1]
    assert _replies(live_app.sms("PN-0001", sender=last)) > 0  # its second: still answered
    assert _replies(live_app.sms("1234", sender=last)) == 0  # its third: the reduced rate
    # a known beneficiary is still answered during the flood
    assert _replies(live_app.sms("MENU", sender=DEMO_PHONE)) > 0


def test_forty_messages_at_once_from_one_number_get_exactly_thirty_answers(
    live_app: LiveApp,
) -> None:
    live_app.services.assistant.limits = InboundLimits(per_address=30)
    start = threading.Barrier(40)

    def send(n: int) -> int:
        with httpx.Client(base_url=live_app.url, timeout=60) as client:
            params = {
                "From": "+33600000077",
                "To": "+33700000000",
                "Body": "MENU",
                "MessageSid": f"SMconcurrent{n:04d}",
            }
            signature = live_app.sign("/sms/twilio", params)
            start.wait()
            return _replies(
                client.post("/sms/twilio", data=params, headers={"X-Twilio-Signature": signature})
            )

    with ThreadPoolExecutor(max_workers=40) as pool:
        answered = list(pool.map(send, range(40)))
    assert sum(1 for n in answered if n) == 30
    assert _inbound(live_app, "sms") == 40


def test_a_foreign_unknown_number_never_gets_an_sms(live_app: LiveApp) -> None:
    assert _replies(live_app.sms("MENU", sender="+447700900123")) == 0
    assert _replies(live_app.sms("MENU", sender="+8613800138000")) == 0
