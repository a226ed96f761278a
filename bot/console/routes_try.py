"""Try the assistant: a phone-shaped page to talk to it as a demo person or an unknown number,
through the same path as `passnum chat` (the Assistant and the SMS presenter), with each
reply's characters and SMS segments — for showing a resident what to text, and for whoever
writes the messages. The conversation is real: it uses and changes that number's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from bot.console.web import ConsoleRefused, Visit, checked_visit, render, visit
from bot.terminal import chat_lines
from flows.gsm7 import gsm7_length, sms_segments
from storage.demo import DEMO_PHONE

__all__ = ["router"]

router = APIRouter()
UNKNOWN_NUMBER = "+33699999999"
SENDERS = {"demo": DEMO_PHONE, "unknown": UNKNOWN_NUMBER}


@router.get("/try")
def try_page(who: Annotated[Visit, Depends(visit)], sender: str = "demo") -> Response:
    return render(who, who.request, "try.html", sender=sender, exchange=None)


@router.post("/try")
def talk(
    who: Annotated[Visit, Depends(checked_visit)],
    message: Annotated[str, Form(max_length=480)],
    sender: Annotated[str, Form()] = "demo",
) -> Response:
    """One SMS from the chosen number; the replies as they would arrive."""
    if sender not in SENDERS:
        raise ConsoleRefused(422, "sender: demo or unknown")
    services = who.request.app.state.services
    typed, texts = next(
        chat_lines(
            services.assistant,
            services.presenter,
            channel="sms",
            address=SENDERS[sender],
            lines=[message],
        )
    )
    replies = [(text, gsm7_length(text), sms_segments(text)) for text in texts]
    return render(
        who, who.request, "try.html", sender=sender, exchange={"typed": typed, "replies": replies}
    )
