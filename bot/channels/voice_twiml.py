"""A spoken turn (flows.voice.VoiceTurn) as TwiML, with twilio's own VoiceResponse.

Each answer goes to `/voice/twilio/gather?n=<step>&page=<page>`: the step numbers the call's
answers (a repeated delivery of one step is answered once), the page says which choices were
said (`#` says the next ones). With no answer at all, the call comes back with `quiet=<count>`
and hears the question again; after `MAX_SILENCES` it says goodbye.
"""

from __future__ import annotations

from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

from flows.voice import Listen, Spoken, VoiceTurn

__all__ = ["GATHER_PATH", "MAX_SILENCES", "RECORD_SECONDS", "goodbye_twiml", "turn_twiml"]

GATHER_PATH = "/voice/twilio/gather"
TRANSCRIPTION_PATH = "/voice/twilio/transcription"
MAX_SILENCES = 2
RECORD_SECONDS = 120
ENTRY_TIMEOUT_S = 6  # people key a booklet number slowly


def _url(base: str, path: str, **query: object) -> str:
    shown = {name: value for name, value in query.items() if value not in (None, "", 0)}
    return base.rstrip("/") + path + ("?" + urlencode(shown) if shown else "")


def _say(target: VoiceResponse | Gather, items: list[Spoken]) -> None:
    for item in items:
        if item.text:
            target.say(item.text, language=item.language)


def turn_twiml(
    turn: VoiceTurn,
    *,
    base_url: str,
    step: int,
    page: int = 0,
    quiet: int = 0,
    about: str | None = None,
) -> str:
    """The TwiML that says `turn` (page `page`) and listens for step `step`."""
    answer = VoiceResponse()
    speech = turn.speech(page)
    if turn.listen == Listen.HANGUP:
        _say(answer, speech)
        answer.hangup()
        return str(answer)
    if turn.listen == Listen.RECORD:
        _say(answer, speech)
        answer.record(
            action=_url(base_url, GATHER_PATH, n=step, recorded=1),
            method="POST",
            max_length=RECORD_SECONDS,
            finish_on_key="#",
            play_beep=True,
            transcribe=True,
            transcribe_callback=_url(base_url, TRANSCRIPTION_PATH),
        )
    else:
        choice = turn.listen == Listen.CHOICE
        gather = Gather(
            input="dtmf speech",
            language=turn.language,
            action=_url(base_url, GATHER_PATH, n=step, page=page, about=about),
            method="POST",
            num_digits=1 if choice else None,
            finish_on_key="" if choice else "#",
            timeout=ENTRY_TIMEOUT_S,
            speech_timeout="auto",
        )
        _say(gather, speech)
        answer.append(gather)
    answer.redirect(
        _url(base_url, GATHER_PATH, n=step, page=page, quiet=quiet + 1, about=about),
        method="POST",
    )
    return str(answer)


def goodbye_twiml(text: str, language: str) -> str:
    answer = VoiceResponse()
    answer.say(text, language=language)
    answer.hangup()
    return str(answer)
