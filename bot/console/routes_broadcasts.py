"""Broadcasts: compose with a preview (recipients by channel, the SMS as it will arrive,
characters, segments, cost, quiet hours), confirm, the approval queue, the delivery report.
The preview button posts the whole page; with JavaScript, `static/live-preview.js` also asks
`/broadcasts/preview-fragment` for the preview card while the message is typed.

Every action is the staff API's handler (`bot.staff.broadcasts`): the same rules, price and
threshold; the report page refreshes itself while messages are going out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from bot.console.web import ConsoleRefused, Visit, checked_visit, handle, redirect, render, visit
from bot.staff.broadcasts import (
    ApproveBroadcast,
    BroadcastReport,
    CancelBroadcast,
    ListBroadcasts,
    PreviewBroadcast,
    SegmentChoices,
    SendBroadcast,
)

__all__ = ["router"]

router = APIRouter()
REFRESH_SECONDS = 3


Form_ = dict[str, str]


def _form(segment: str, message: str, language: str, send_at: str) -> Form_:
    """The composer's fields as typed, to show them again."""
    return {"segment": segment, "message": message, "language": language, "send_at": send_at}


def _command(who: Visit, kind: type[PreviewBroadcast] | type[SendBroadcast], form: Form_) -> Any:
    language = form["language"] if form["language"] in ("fr", "en") else None
    return kind(form["segment"], form["message"], language, _send_at(who, form["send_at"]))


def _send_at(who: Visit, text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConsoleRefused(422, who.t("broadcasts.bad_time")) from None


def _composer(who: Visit, **context: Any) -> Response:
    reports = handle(who, ListBroadcasts())
    choices = handle(who, SegmentChoices())
    return render(
        who,
        who.request,
        "broadcasts.html",
        reports=reports,
        pending=[r for r in reports if r.status == "pending_approval"],
        places=choices.places,
        topics=choices.topics,
        form=context.pop("form", {}),
        **context,
    )


@router.get("/broadcasts")
def broadcasts(who: Annotated[Visit, Depends(visit)]) -> Response:
    return _composer(who)


def _preview(who: Visit, form: Form_) -> dict[str, Any]:
    """What the broadcast would do; nothing is stored."""
    return {"form": form, "seen": handle(who, _command(who, PreviewBroadcast, form))}


def _typed(
    segment: Annotated[str, Form()],
    message: Annotated[str, Form(max_length=1600)],
    language: Annotated[str, Form()] = "",
    send_at: Annotated[str, Form()] = "",
) -> Form_:
    """The composer's form, posted by its buttons (a segment and a message are required)."""
    return _form(segment, message, language, send_at)


@router.post("/broadcasts/preview")
def show_preview(
    who: Annotated[Visit, Depends(checked_visit)], form: Annotated[Form_, Depends(_typed)]
) -> Response:
    """The composer with the preview below it (the button: works without JavaScript)."""
    return _composer(who, **_preview(who, form))


@router.post("/broadcasts/preview-fragment")
def preview_fragment(
    who: Annotated[Visit, Depends(checked_visit)],
    segment: Annotated[str, Form()] = "all",
    message: Annotated[str, Form(max_length=1600)] = "",
    language: Annotated[str, Form()] = "",
    send_at: Annotated[str, Form()] = "",
) -> Response:
    """Only the preview card, for the composer's script to swap in while the text is typed;
    a refused preview (a bad time, a place not theirs) is said in the card."""
    if not message.strip():
        return render(who, who.request, "broadcast_preview.html", seen=None, problem=None)
    try:
        context = _preview(who, _form(segment, message, language, send_at))
    except ConsoleRefused as refused:
        return render(
            who, who.request, "broadcast_preview.html", seen=None, problem=refused.message
        )
    return render(who, who.request, "broadcast_preview.html", problem=None, **context)


@router.post("/broadcasts")
def compose(
    who: Annotated[Visit, Depends(checked_visit)], form: Annotated[Form_, Depends(_typed)]
) -> Response:
    """Draft and confirm in one step: queued, or held for a second person's approval."""
    sent = handle(who, _command(who, SendBroadcast, form))
    return redirect(f"/broadcasts/{sent.id}")


@router.get("/broadcasts/{broadcast_id}")
def report(broadcast_id: int, who: Annotated[Visit, Depends(visit)]) -> Response:
    found = handle(who, BroadcastReport(broadcast_id=broadcast_id))
    refresh = found.status == "queued" and not found.finished
    return render(
        who,
        who.request,
        "broadcast.html",
        report=found,
        refresh=REFRESH_SECONDS if refresh else None,
    )


@router.post("/broadcasts/{broadcast_id}/approve")
def approve(broadcast_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    handle(who, ApproveBroadcast(broadcast_id=broadcast_id))
    return redirect(f"/broadcasts/{broadcast_id}")


@router.post("/broadcasts/{broadcast_id}/cancel")
def cancel(broadcast_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    handle(who, CancelBroadcast(broadcast_id=broadcast_id))
    return redirect(f"/broadcasts/{broadcast_id}")
