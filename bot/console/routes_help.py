"""The help inbox: unanswered messages first, answered in place (through the outbox).
Both are the staff API's handlers (`bot.staff.help`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from bot.console.web import Visit, checked_visit, handle, redirect, render, visit
from bot.staff.help import AnswerHelpRequest, HelpRequests

__all__ = ["router"]

router = APIRouter()


@router.get("/help")
def inbox(who: Annotated[Visit, Depends(visit)]) -> Response:
    found = handle(who, HelpRequests())
    return render(who, who.request, "help.html", waiting=found.waiting, done=found.answered)


@router.post("/help/{request_id}/answer")
def answer(
    request_id: int, who: Annotated[Visit, Depends(checked_visit)], text: Annotated[str, Form()]
) -> Response:
    """The answer goes to the person on their channel, through the outbox (the API's rule)."""
    handle(who, AnswerHelpRequest(request_id=request_id, text=text))
    return redirect("/help")
