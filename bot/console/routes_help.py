"""The help inbox: unanswered messages first, answered in place (through the outbox)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlmodel import Session

from bot.console.web import Visit, checked_visit, perform, redirect, render, visit
from storage.beneficiaries_admin import answer_help_request
from storage.console_queries import answered_help_requests
from storage.staff import open_help_requests

__all__ = ["router"]

router = APIRouter()


@router.get("/help")
def inbox(who: Annotated[Visit, Depends(visit)]) -> Response:
    def work(session: Session):  # type: ignore[no-untyped-def]
        waiting = open_help_requests(session, staff=who.staff)
        done = answered_help_requests(session, staff=who.staff)
        return waiting, done

    waiting, done = perform(who, work)
    return render(who, who.request, "help.html", waiting=waiting, done=done)


@router.post("/help/{request_id}/answer")
def answer(
    request_id: int, who: Annotated[Visit, Depends(checked_visit)], text: Annotated[str, Form()]
) -> Response:
    """The answer goes to the person on their channel, through the outbox (the API's rule)."""
    perform(
        who,
        lambda s: answer_help_request(
            s, staff=who.staff, request_id=request_id, text=text, now=who.now
        ),
    )
    return redirect("/help")
