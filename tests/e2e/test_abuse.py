"""Flood and pumping limits on the inbound SMS webhook: beyond a limit, no reply (no cost)."""

from __future__ import annotations

from datetime import timedelta

from storage.abuse import InboundLimits
from tests.e2e.conftest import LiveApp


def _replies(answer) -> int:  # type: ignore[no-untyped-def]
    assert answer.status_code == 200
    return int(answer.text.count("<Message>"))


def test_one_address_flooding_gets_no_reply_beyond_the_limit(live_app: LiveApp) -> None:
    live_app.services.assistant.limits = InboundLimits(per_address=3)
    answered = [_replies(live_app.sms("MENU")) for _ in range(6)]
    assert [n > 0 for n in answered] == [True, True, True, False, False, False]
    # someone else is still answered
    assert _replies(live_app.sms("MENU", sender="+33611111111")) > 0


def test_unknown_numbers_together_are_limited(live_app: LiveApp) -> None:
    live_app.services.assistant.limits = InboundLimits(
        unknown_global=4, unknown_global_window=timedelta(minutes=10)
    )
    senders = [f"+336000000{n:02d}" for n in range(8)]
    answered = [_replies(live_app.sms("bonjour", sender=s)) for s in senders]
    assert sum(1 for n in answered if n) == 4
    # a known beneficiary is still answered during the flood
    assert _replies(live_app.sms("MENU", sender="+33612345678")) > 0


def test_a_foreign_unknown_number_never_gets_an_sms(live_app: LiveApp) -> None:
    assert _replies(live_app.sms("MENU", sender="+447700900123")) == 0
    assert _replies(live_app.sms("MENU", sender="+8613800138000")) == 0
