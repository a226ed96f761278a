"""Try the assistant: a phone-shaped page to talk to it as a demo person or an unknown number,
by SMS, Telegram or a phone call, through the same path as `passnum chat` (the Assistant, the
SMS and Telegram presenters, and for a call the voice renderer as `passnum chat --channel
voice` plays it), with each reply's characters and SMS segments (words for a call) — for
showing a resident what to text, and for whoever writes the messages. The conversation is real:
it uses and changes that number's state."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from bot.channels.assistant import telegram_address
from bot.channels.terminal import chat_lines
from bot.channels.terminal_voice import call_step
from bot.console.web import ConsoleRefused, Visit, checked_visit, render, visit
from flows.gsm7 import gsm7_length, sms_segments
from flows.voice import VoiceTurn, spoken_words
from storage.demo import DEMO_PHONE

__all__ = ["router"]

router = APIRouter()
UNKNOWN_NUMBER = "+33699999999"
SENDERS = {"demo": DEMO_PHONE, "unknown": UNKNOWN_NUMBER}
CHATS = {"demo": 1000, "unknown": 1999}  # Telegram chats of `passnum chat` (not linked yet)
CHANNELS = ("sms", "telegram", "voice")


@router.get("/try")
def try_page(
    who: Annotated[Visit, Depends(visit)], sender: str = "demo", channel: str = "sms"
) -> Response:
    chosen = channel if channel in CHANNELS else "sms"
    return render(who, who.request, "try.html", sender=sender, channel=chosen, exchange=None)


@router.post("/try")
def talk(
    who: Annotated[Visit, Depends(checked_visit)],
    message: Annotated[str, Form(max_length=480)] = "",
    sender: Annotated[str, Form()] = "demo",
    channel: Annotated[str, Form()] = "sms",
    call: Annotated[str, Form()] = "",
    turn: Annotated[str, Form(max_length=20_000)] = "",
    page: Annotated[int, Form(ge=0, le=50)] = 0,
) -> Response:
    """One message (or a call's keys or words) from the chosen number; the replies as they
    would arrive, or what the call would say."""
    if sender not in SENDERS:
        raise ConsoleRefused(422, "sender: demo or unknown")
    if call:  # "Call": a new call from this number
        channel, message = "voice", ""
    if channel not in CHANNELS:
        raise ConsoleRefused(422, "channel: sms, telegram or voice")
    if channel == "voice":
        exchange = _call(who, SENDERS[sender], message.strip() or None, turn, page)
    else:
        if not message.strip():
            raise ConsoleRefused(422, who.t("try.empty_message"))
        exchange = _chat(who, channel, sender, message)
    return render(who, who.request, "try.html", sender=sender, channel=channel, exchange=exchange)


def _chat(who: Visit, channel: str, sender: str, message: str) -> dict[str, Any]:
    services = who.request.app.state.services
    address = SENDERS[sender] if channel == "sms" else telegram_address(CHATS[sender])
    typed, texts = next(
        chat_lines(
            services.assistant,
            services.presenter,
            channel=channel,
            address=address,
            lines=[message],
        )
    )
    replies = [
        (text, who.t("try.count", chars=gsm7_length(text), parts=sms_segments(text)))
        if channel == "sms"
        else (text, who.t("try.chars", chars=len(text)))
        for text in texts
    ]
    return {"typed": typed, "replies": replies}


def _call(who: Visit, phone: str, typed: str | None, turn: str, page: int) -> dict[str, Any]:
    """One turn of a call; the last turn comes back with the form (for "*" and "#" only)."""
    services = who.request.app.state.services
    try:
        last = VoiceTurn.from_json(turn) if turn and typed in ("*", "#") else None
    except (ValueError, KeyError, TypeError):
        raise ConsoleRefused(422, "turn: not a call turn") from None
    said, page = call_step(
        services.assistant, services.presenter, address=phone, typed=typed, last=last, page=page
    )
    speech = said.speech(page)
    replies = [(item.text, who.t("try.words", words=spoken_words([item]))) for item in speech]
    return {
        "typed": typed if typed is not None else who.t("try.ringing"),
        "replies": replies,
        "listen": who.t("try.listen_" + said.listen),
        "turn": said.to_json(),
        "page": page,
        "ended": said.listen == "hangup",
    }
