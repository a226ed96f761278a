"""The Twilio SMS provider's direct Messages API calls, against the fake Twilio over real HTTP:
the form Twilio receives, and each kind of answer sorted into an outcome."""

from __future__ import annotations

import socket

import pytest

from bot.fakes.servers import FakeTwilio
from bot.outbox import twilio_sms
from bot.outbox.providers import Outcome
from bot.outbox.twilio_sms import TwilioSmsProvider
from tests.outbox.conftest import make_settings

PHONE = "+33612345678"


def _provider(api_base: str, sender: str = "+33700000000") -> TwilioSmsProvider:
    return TwilioSmsProvider(
        make_settings(
            twilio_account_sid="AC" + "3" * 32,
            twilio_auth_token="secret",
            twilio_from=sender,
            twilio_api_base=api_base,
            public_url="https://passnum.example",
        )
    )


async def test_sends_the_form_twilio_expects() -> None:
    with FakeTwilio() as twilio:
        provider = _provider(twilio.url)
        first = await provider.send(PHONE, "Rappel : atelier mardi 10 h & café")
        second = await provider.send(PHONE, "Deuxième")  # the same kept-alive connection
        await provider.aclose()
    assert first.outcome == Outcome.SENT and first.provider_id in twilio.sids
    assert second.outcome == Outcome.SENT and second.provider_id != first.provider_id
    sent = twilio.sent[0]
    assert sent["To"] == PHONE and sent["Body"] == "Rappel : atelier mardi 10 h & café"
    assert sent["From"] == "+33700000000" and sent["ValidityPeriod"] == "14400"
    assert sent["StatusCallback"] == "https://passnum.example/sms/twilio/status"


async def test_a_messaging_service_is_the_sender_when_configured() -> None:
    with FakeTwilio() as twilio:
        provider = _provider(twilio.url, sender="MG" + "4" * 32)
        assert (await provider.send(PHONE, "Bonjour")).outcome == Outcome.SENT
        await provider.aclose()
    assert twilio.sent[0]["MessagingServiceSid"] == "MG" + "4" * 32
    assert "From" not in twilio.sent[0]


@pytest.mark.parametrize(
    ("status", "body", "headers", "outcome", "opted_out", "retry_after"),
    [
        (400, {"code": 21610, "message": "unsubscribed"}, {}, Outcome.PERMANENT, True, None),
        (400, {"code": 21211, "message": "Invalid 'To'"}, {}, Outcome.PERMANENT, False, None),
        (
            429,
            {"code": 20429, "message": "Too Many"},
            {"Retry-After": "30"},
            Outcome.TEMPORARY,
            False,
            30.0,
        ),
        (503, {"code": 20503, "message": "Unavailable"}, {}, Outcome.TEMPORARY, False, None),
    ],
)
async def test_answers_are_sorted(status, body, headers, outcome, opted_out, retry_after) -> None:  # type: ignore[no-untyped-def]
    with FakeTwilio() as twilio:
        twilio.fail_next(status, body, headers)
        provider = _provider(twilio.url)
        result = await provider.send(PHONE, "Rappel")
        await provider.aclose()
    assert (result.outcome, result.opted_out, result.retry_after) == (
        outcome,
        opted_out,
        retry_after,
    )
    assert result.error and str(body["code"]) in result.error


async def test_no_answer_in_time_is_unknown_and_no_connection_is_temporary(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(twilio_sms, "SEND_TIMEOUT_S", 0.3)
    with FakeTwilio() as twilio:
        twilio.delay = 1.0  # it gets the message, then answers too late: it may have gone out
        provider = _provider(twilio.url)
        late = await provider.send(PHONE, "Rappel")
        await provider.aclose()
    assert late.outcome == Outcome.UNKNOWN
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: the connection is refused
        provider = _provider(f"http://127.0.0.1:{port}")
        refused = await provider.send(PHONE, "Rappel")
        await provider.aclose()
    assert refused.outcome == Outcome.TEMPORARY
