"""Twilio Voice webhooks: the assistant on a phone call.

`POST /voice/twilio` (a call begins) and `POST /voice/twilio/gather` (each answer) are signed
like the SMS webhook: twilio's RequestValidator against PASSNUM_PUBLIC_URL + path + query
(the query, which carries the step, is signed too); 403 otherwise. The caller's number is
the address, exactly as an SMS sender's: same person, same linking, same lock after wrong
codes, same conversation state. A call always starts at the menu (or the booklet question
for an unknown number), whatever step an SMS left; its answers are steps `<CallSid>:<n>` of
the inbound dedupe, so a repeated delivery is answered once, with the same TwiML.

`*` says the last turn again, `#` its next choices, silence repeats the question (twice,
then goodbye): these replay what was stored and run no conversation. A recorded help
message is passed on like a written one (the recording's address as its text); Twilio's
transcription, when it comes, is added to the help inbox by `/voice/twilio/transcription`.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import replace

import anyio
from fastapi import APIRouter, HTTPException, Request, Response

from bot.channels.assistant import Turn
from bot.channels.voice_help import store_transcription
from bot.channels.voice_twiml import MAX_SILENCES, goodbye_twiml, turn_twiml
from bot.http_limits import read_form
from bot.outbox.twilio_sms import signature_is_valid
from flows.types import CallStart, Input, Reply
from flows.voice import VOICES, Spoken, VoiceTurn, call_words
from storage.db import unit_of_work
from storage.phones import mask_phone
from storage.voice_calls import VOICE_CHANNEL, record_call_step, step_id, turn_before

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter()

_CALLER = re.compile(r"^\+[1-9]\d{6,14}$")  # hidden numbers come as "anonymous", "+266696687"…
_HIDDEN = {"+266696687", "+7378742833", "+2562533", "+8656696"}


def _twiml(text: str) -> Response:
    return Response(content=text, media_type="text/xml")


async def _signed_call(request: Request) -> dict[str, str]:
    form = await read_form(request)
    services = request.app.state.services
    signature = request.headers.get("X-Twilio-Signature", "")
    signed = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not signature_is_valid(services.settings, signed, form, signature):
        log.warning("twilio voice: bad or missing signature on %s", request.url.path)
        raise HTTPException(403, "invalid Twilio signature")
    if not form.get("CallSid"):
        raise HTTPException(400, "CallSid is required")
    return form


def _number(request: Request, name: str, default: int = 0) -> int:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() and len(value) < 6 else default


def _caller(form: dict[str, str]) -> str:
    """The caller's number: `From` on a call in, `To` on a reminder call we placed."""
    outbound = form.get("Direction", "inbound").startswith("outbound")
    return form.get("To" if outbound else "From", "")


async def _converse(
    request: Request, form: dict[str, str], message: Input, step: int, body: str
) -> VoiceTurn | None:
    """One turn of the conversation, stored under the call's step; None when refused."""
    services = request.app.state.services
    said: list[VoiceTurn] = []

    def render(turn: Turn) -> str:
        said.append(services.presenter.voice(turn))
        return said[-1].to_json()

    turn = await anyio.to_thread.run_sync(
        functools.partial(
            services.assistant.handle,
            channel=VOICE_CHANNEL,
            address=_caller(form),
            message=message,
            provider_id=step_id(form["CallSid"], step),
            body=body,
            on_commit=render,
        ),
        limiter=services.conversation_limiter,
    )
    if turn.duplicate:
        log.info("twilio voice: step %s of a call seen before, same answer", step)
        return VoiceTurn.from_json(turn.stored_reply) if turn.stored_reply else None
    if turn.refused:
        return None
    return said[-1] if said else None


def _hang_up(request: Request, key: str, language: str = "fr") -> Response:
    services = request.app.state.services
    turn = services.presenter.voice(Turn([Reply(key)], language))
    return _twiml(goodbye_twiml(" ".join(s.text for s in turn.said), VOICES.get(language, "fr-FR")))


@router.post("/voice/twilio")
async def call_starts(request: Request) -> Response:
    form = await _signed_call(request)
    caller = _caller(form)
    if not _CALLER.match(caller) or caller in _HIDDEN:
        return _hang_up(request, "voice.hidden_number")
    log.info("twilio voice: call from %s", mask_phone(caller))
    turn = await _converse(request, form, CallStart(), 0, "[call]")
    if turn is None:
        return _twiml(goodbye_twiml("", "fr-FR"))
    base = request.app.state.services.settings.public_url
    return _twiml(turn_twiml(turn, base_url=base, step=1))


@router.post("/voice/twilio/gather")
async def call_answer(request: Request) -> Response:
    form = await _signed_call(request)
    step, page = _number(request, "n", 1), _number(request, "page")
    quiet, about = _number(request, "quiet"), request.query_params.get("about")
    digits, speech = form.get("Digits", "").strip(), form.get("SpeechResult", "").strip()
    base = request.app.state.services.settings.public_url
    if request.query_params.get("recorded") and form.get("RecordingUrl"):
        text = f"Message vocal : {form['RecordingUrl']}"
        turn = await _converse(request, form, call_words("", text), step, "[recording]")
    elif digits in ("*", "#") or not (digits or speech):
        return await _replay(request, form, step, page, quiet, digits, about)
    else:
        message = call_words(digits, speech, after_reminder=about == "reminder")
        turn = await _converse(request, form, message, step, digits or speech)
    if turn is None:
        return _twiml(goodbye_twiml("", "fr-FR"))
    return _twiml(turn_twiml(turn, base_url=base, step=step + 1))


async def _replay(
    request: Request,
    form: dict[str, str],
    step: int,
    page: int,
    quiet: int,
    digits: str,
    about: str | None,
) -> Response:
    """`*`: the last turn again; `#`: its next choices; nothing: the question again."""
    services = request.app.state.services
    if not digits and quiet >= MAX_SILENCES:
        return _hang_up(request, "voice.goodbye", _language_of(request, form, step))

    def replay() -> str | None:
        with unit_of_work(services.engine) as session:
            before = turn_before(session, call_sid=form["CallSid"], step=step)
            if before is None:
                return None
            said = record_call_step(
                session,
                call_sid=form["CallSid"],
                step=step,
                address=_caller(form),
                body=digits or "[silence]",
                said=before,
                now=services.assistant.clock(),
            )
            session.commit()
            return said

    stored = await anyio.to_thread.run_sync(replay)
    if stored is None:
        return _hang_up(request, "voice.goodbye")
    turn = VoiceTurn.from_json(stored)
    page = (page + 1) % max(len(turn.pages), 1) if digits == "#" else 0
    if not digits:  # silence: say so, then the question again
        notice = Spoken(_no_input(services, turn.language), turn.language)
        turn = replace(turn, said=(notice, *turn.said))
    return _twiml(
        turn_twiml(
            turn,
            base_url=services.settings.public_url,
            step=step + 1,
            page=page,
            quiet=0 if digits else quiet,
            about=about,
        )
    )


def _no_input(services: object, voice: str) -> str:
    language = next((code for code, name in VOICES.items() if name == voice), "fr")
    said = services.presenter.voice(Turn([Reply("voice.no_input")], language)).said  # type: ignore[attr-defined]
    return said[0].text if said else ""


@router.post("/voice/twilio/transcription")
async def transcription(request: Request) -> Response:
    """Twilio's transcript of a recorded help message: added to the help inbox."""
    form = await _signed_call(request)
    text = form.get("TranscriptionText", "").strip()
    if form.get("TranscriptionStatus", "completed") != "completed" or not text:
        return Response(status_code=204)
    services = request.app.state.services
    await anyio.to_thread.run_sync(
        functools.partial(
            store_transcription,
            services,
            call_sid=form["CallSid"],
            address=_caller(form),
            text=text,
        )
    )
    return Response(status_code=204)


def _language_of(request: Request, form: dict[str, str], step: int) -> str:
    """The catalog language of the call's last turn (for its goodbye)."""
    services = request.app.state.services
    with unit_of_work(services.engine) as session:
        before = turn_before(session, call_sid=form["CallSid"], step=step)
    voice = VoiceTurn.from_json(before).language if before else "fr-FR"
    return next((code for code, name in VOICES.items() if name == voice), "fr")
