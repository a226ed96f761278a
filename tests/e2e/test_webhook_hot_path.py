"""The SMS webhook's hot path: TwiML written as a string is twilio's own TwiML; on SQLite the
conversation runs on the event loop, and a database held by another writer never blocks it."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.twiml import messages_twiml
from storage.db import is_sqlite, unit_of_work
from storage.demo import DEMO_PHONE
from tests.e2e.conftest import LiveApp

AWKWARD = [
    "Tom & Jerry <3 > all",
    "Il a dit \"oui\" et l'autre 'non'",
    "Emoji 😀👍🏽 et accents é à ç €",
    "deux\nlignes\r\net\ttab",
    "]]> <![CDATA[ x ]]> &amp; déjà échappé &lt;",
    "<Message>injection</Message></Response>",
    "",
    " ",
    "\x1e séparateur",
]


def _twilio(texts: list[str]) -> str:
    answer = MessagingResponse()
    for text in texts:
        answer.message(text)
    return str(answer)


@pytest.mark.parametrize("text", AWKWARD)
def test_twiml_is_twilios_own_output(text: str) -> None:
    assert messages_twiml([text]) == _twilio([text])
    assert messages_twiml([text, "second"]) == _twilio([text, "second"])


def test_twiml_without_messages_is_twilios_empty_response() -> None:
    assert messages_twiml([]) == _twilio([])


def test_webhook_answer_is_the_twiml_twilio_would_write(live_app: LiveApp) -> None:
    answer = live_app.sms("bonjour", sender=DEMO_PHONE)
    assert answer.status_code == 200
    texts = [message.text or "" for message in ET.fromstring(answer.text).iter("Message")]
    assert texts and answer.text == _twilio(texts)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _threads_of_turns(live_app: LiveApp) -> list[bool]:
    """For each conversation turn (the assistant's handle, observed): on the event loop?"""
    seen: list[bool] = []
    assistant = live_app.services.assistant
    original = assistant.handle

    def observed(**kwargs):  # type: ignore[no-untyped-def]
        seen.append(_on_event_loop())
        return original(**kwargs)

    assistant.handle = observed
    return seen


def test_sqlite_conversation_runs_on_the_event_loop(live_app: LiveApp) -> None:
    seen = _threads_of_turns(live_app)
    for n in range(3):
        assert live_app.sms(str(n), sender=DEMO_PHONE).status_code == 200
    assert seen == [is_sqlite(live_app.engine)] * 3  # type: ignore[arg-type]


def test_a_held_database_does_not_block_the_loop(live_app: LiveApp) -> None:
    """Another writer holds SQLite: the webhook's turn waits in a thread, the loop still
    answers other requests, and the turn completes once the writer is done."""
    if not is_sqlite(live_app.engine):  # type: ignore[arg-type]
        pytest.skip("PostgreSQL turns always run in threads")
    seen = _threads_of_turns(live_app)
    with ThreadPoolExecutor(1) as pool:
        with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
            session.connection()  # BEGIN IMMEDIATE: this thread holds the write lock
            pending = pool.submit(live_app.sms, "1", sender=DEMO_PHONE)
            live_app.wait_for(lambda: len(seen) == 2)  # tried on the loop, then in a thread
            assert seen == [True, False]
            for _ in range(3):  # the loop still serves: a forged webhook is refused at once
                assert live_app.sms("1", signature="forged").status_code == 403
            assert not pending.done()
            session.commit()
        answer = pending.result(timeout=20)
    assert answer.status_code == 200 and "<Message>" in answer.text
