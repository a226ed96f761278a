"""The voice line end to end: signed Twilio Voice webhooks against the real app on loopback;
call transcripts in tests/e2e/calls (PASSNUM_UPDATE_TRANSCRIPTS=1 rewrites them after a
deliberate wording change: read the diff)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.voice_calls import VoiceApp, replay_call, voice_app

CALLS = sorted((Path(__file__).parent / "calls").glob("*.txt"))
SECONDS_PER_WORD = 60 / 150  # speech at 150 words a minute
MAX_PROMPT_SECONDS = 25


@pytest.fixture
def phone(database_url: str) -> Iterator[VoiceApp]:
    with voice_app(database_url) as app:
        yield app


@pytest.mark.parametrize("path", CALLS, ids=[p.stem for p in CALLS])
def test_call_transcript(phone: VoiceApp, path: Path) -> None:
    expected, actual, answers = replay_call(phone, path)
    if os.environ.get("PASSNUM_UPDATE_TRANSCRIPTS") == "1":
        path.write_text("\n".join(actual) + "\n", encoding="utf-8")
    elif expected != actual:
        diff = "\n".join(difflib.unified_diff(expected, actual, "expected", "actual", lineterm=""))
        pytest.fail(f"{path.name} differs:\n{diff}")
    for heard in answers:
        seconds = heard.words * SECONDS_PER_WORD
        assert seconds < MAX_PROMPT_SECONDS, (path.name, seconds, heard.said)


def _count(app: VoiceApp, model, *where) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select
    from sqlmodel import Session

    with Session(app.engine) as session:  # type: ignore[arg-type]
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_forged_or_unsigned_voice_webhooks_get_403(phone: VoiceApp) -> None:
    from storage.models import InboundMessage
    from tests.e2e.conftest import PUBLIC_URL
    from tests.e2e.voice_calls import Call

    call = Call(phone, "+33612345678")
    for path in ("/voice/twilio", "/voice/twilio/gather?n=1", "/voice/twilio/transcription"):
        forged = phone.post(PUBLIC_URL + path, call.params(Digits="1"), signature="Zm9yZ2Vk")
        unsigned = phone.post(PUBLIC_URL + path, call.params(Digits="1"), signature="")
        assert (forged.status_code, unsigned.status_code) == (403, 403), path
    call.start()
    assert call.last is not None and call.last.action
    signed_for_step_1 = call.last.action  # the step is signed: changing it breaks the signature
    from twilio.request_validator import RequestValidator

    from tests.e2e.conftest import AUTH_TOKEN

    params = call.params(Digits="1")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(signed_for_step_1, params)
    tampered = phone.client.post(
        "/voice/twilio/gather?n=7", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert tampered.status_code == 403
    assert _count(phone, InboundMessage) == 1  # only the call's start


def test_a_repeated_gather_is_answered_once(phone: VoiceApp) -> None:
    from storage.models import Booking
    from tests.e2e.voice_calls import Call

    call = Call(phone, "+33612345678")
    call.start()
    call.press("2")
    call.press("1")
    before = _count(phone, Booking)
    assert call.last is not None and call.last.action
    action, params = call.last.action, call.params(Digits="1")
    first = phone.post(action, params)
    again = phone.post(action, params)
    assert first.status_code == again.status_code == 200
    assert first.text == again.text and "réservé" in first.text
    assert _count(phone, Booking) == before + 1


def test_a_recorded_message_and_its_transcript_reach_the_help_inbox(phone: VoiceApp) -> None:
    from storage.models import HelpRequest
    from tests.e2e.conftest import PUBLIC_URL
    from tests.e2e.voice_calls import Call

    call = Call(phone, "+33612345678")
    call.start()
    call.press("5")
    call.press("1")
    assert call.last is not None and call.last.listen == "record"
    call.record("https://api.twilio.com/2010-04-01/Accounts/AC00/Recordings/RE42")
    transcript = call.params(
        TranscriptionText="Je ne peux pas venir jeudi.",
        TranscriptionStatus="completed",
        RecordingSid="RE42",
    )
    for _ in range(2):  # Twilio may call back twice: one transcript in the inbox
        answer = phone.post(PUBLIC_URL + "/voice/twilio/transcription", transcript)
        assert answer.status_code == 204
    from sqlmodel import Session, select

    with Session(phone.engine) as session:  # type: ignore[arg-type]
        texts = [r.text for r in session.exec(select(HelpRequest)).all()]
    assert len(texts) == 2
    assert "RE42" in texts[0] and texts[1] == "Transcription : Je ne peux pas venir jeudi."
    assert _count(phone, HelpRequest, HelpRequest.channel == "voice") == 2


def test_hidden_numbers_hear_why_and_the_call_ends(phone: VoiceApp) -> None:
    from tests.e2e.voice_calls import Call

    heard = Call(phone, "anonymous").start()
    assert heard.listen == "hangup" and "masqué" in heard.said[0][0]


def test_a_reminder_call_is_placed_once_outside_quiet_hours_and_its_keys_act(
    database_url: str,
) -> None:
    """Calls chosen by SMS ("APPEL"); the J-1 reminder is one call, not in quiet hours; on
    the call, 2 then 1 cancels the booking."""
    import asyncio
    from datetime import timedelta

    from bot.outbox.channel_providers import build_providers
    from bot.outbox.scheduler import tick
    from storage.models import Booking, BookingStatus, OutboundMessage
    from tests.e2e.conftest import PUBLIC_URL
    from tests.e2e.voice_calls import FIXED_NOW, Call, voice_app

    with voice_app(database_url, voice_reminders=True) as app:
        sms = {"From": "+33612345678", "To": "+33700000000", "Body": "rappels par APPEL"}
        chosen = app.post(PUBLIC_URL + "/sms/twilio", {**sms, "MessageSid": "SM-appel"})
        assert "appel" in chosen.text
        call = Call(app, "+33612345678")
        call.start(), call.press("2"), call.press("1"), call.press("1")  # booked, Tue 9:30
        providers = build_providers(app.settings)  # type: ignore[arg-type]
        assert "voice" in providers

        def run(now):  # type: ignore[no-untyped-def]
            return asyncio.run(tick(app.engine, app.settings, providers, now=now))  # type: ignore[arg-type]

        run(FIXED_NOW - timedelta(hours=8))  # 2:00 at night: quiet hours, nothing rings
        assert app.twilio.calls == []
        run(FIXED_NOW + timedelta(hours=1, minutes=5))  # 10:05: the day-before reminder
        run(FIXED_NOW + timedelta(hours=1, minutes=10))
        calls = app.twilio.calls
        assert len(calls) == 1 and calls[0]["To"] == "+33612345678"
        assert _count(app, OutboundMessage, OutboundMessage.channel == "sms") == 0
        reminder = Call(app, "+33612345678")
        heard = reminder.follow(calls[0]["Twiml"])
        said = " ".join(text for text, _ in heard.said)
        assert "atelier demain" in said and "Pour annuler, tapez 2." in said
        assert heard.words * SECONDS_PER_WORD < MAX_PROMPT_SECONDS
        asked = reminder.press("2")
        assert "Annuler le rendez-vous du mardi 8 janvier" in asked.said[0][0]
        done = reminder.press("1")
        assert "C'est annulé" in done.said[0][0]
        cancelled = Booking.status == BookingStatus.CANCELLED.value
        assert _count(app, Booking, cancelled) == 1


def test_a_reminder_call_answered_1_confirms_and_hangs_up(database_url: str) -> None:
    import asyncio
    from datetime import timedelta

    from bot.outbox.channel_providers import build_providers
    from bot.outbox.scheduler import tick
    from storage.models import Booking, BookingStatus
    from tests.e2e.voice_calls import FIXED_NOW, Call, voice_app

    with voice_app(database_url, voice_reminders=True) as app:
        call = Call(app, "+33612345605")  # Emeka, in English, chooses calls on a call
        call.start(), call.say("reminders by phone call")
        assert call.last is not None and "by phone call" in call.last.said[0][0]
        call.press("0"), call.press("2"), call.press("1"), call.press("1")
        providers = build_providers(app.settings)  # type: ignore[arg-type]
        asyncio.run(tick(app.engine, app.settings, providers, now=FIXED_NOW + timedelta(hours=2)))  # type: ignore[arg-type]
        (placed,) = app.twilio.calls
        heard = Call(app, "+33612345605").follow(placed["Twiml"])
        assert heard.language == "en-GB" and "For cancelling, press 2." in heard.said[-2][0]
        reminder = Call(app, "+33612345605")
        reminder.follow(placed["Twiml"])
        bye = reminder.press("1")
        assert bye.listen == "hangup" and "see you soon" in bye.said[0][0]
        booked = Booking.status == BookingStatus.BOOKED.value
        assert _count(app, Booking, booked) >= 1


def test_passnum_chat_plays_a_call_in_the_terminal(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "PASSNUM_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}
    passnum = [sys.executable, "-m", "bot.cli.main"]
    subprocess.run([*passnum, "demo"], env=env, check=True, capture_output=True, cwd=tmp_path)
    played = subprocess.run(
        [*passnum, "chat", "--channel", "voice"],
        input="#\n1\n",
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert "> [call]\n< Bonjour Aïcha. Que voulez-vous faire ?" in played
    assert "> #\n< Pour l'aide, tapez 5." in played
    assert "> 1\n< Il vous reste" in played
