"""Broadcasts: compose with a preview (recipients by channel, the SMS as it will arrive,
characters, segments, cost, quiet hours), confirm, the approval queue, the delivery report.
The preview button posts the whole page; with JavaScript, `static/live-preview.js` also asks
`/broadcasts/preview-fragment` for the preview card while the message is typed.

Preview, draft, confirm, approve and cancel are the staff API's storage calls with the same
price and threshold settings; the report page refreshes itself while messages are going out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlmodel import Session

from bot.console.web import ConsoleRefused, Visit, checked_visit, perform, redirect, render, visit
from bot.quiet_hours import is_quiet, next_allowed
from flows.gsm7 import gsm7_length
from storage.broadcasts import (
    approve_broadcast,
    broadcast_report,
    cancel_broadcast,
    confirm_broadcast,
    create_broadcast,
    list_broadcasts,
    preview,
)
from storage.console_queries import broadcast_opted_out, place_names, topic_keys

__all__ = ["router"]

router = APIRouter()
REFRESH_SECONDS = 3


def _send_at(who: Visit, text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConsoleRefused(422, who.t("broadcasts.bad_time")) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=who.settings.tz)


def _language(text: str) -> str | None:
    return text if text in ("fr", "en") else None


def _composer(who: Visit, **context: Any) -> Response:
    def work(session: Session):  # type: ignore[no-untyped-def]
        rows = list_broadcasts(session, staff=who.staff)
        reports = [broadcast_report(session, staff=who.staff, broadcast_id=r.id or 0) for r in rows]
        return reports, place_names(session, staff=who.staff), topic_keys(session)

    reports, places, topics = perform(who, work)
    pending = [r for r in reports if r.status == "pending_approval"]
    return render(
        who,
        who.request,
        "broadcasts.html",
        reports=reports,
        pending=pending,
        places=places,
        topics=topics,
        form=context.pop("form", {}),
        **context,
    )


@router.get("/broadcasts")
def broadcasts(who: Annotated[Visit, Depends(visit)]) -> Response:
    return _composer(who)


def _preview(who: Visit, segment: str, message: str, language: str, send_at: str) -> dict[str, Any]:
    """What the broadcast would do (the staff API's preview); nothing is stored."""
    settings = who.settings
    when = _send_at(who, send_at) or who.now
    seen = perform(
        who,
        lambda s: preview(
            s,
            staff=who.staff,
            segment=segment,
            message=message,
            language=_language(language),
            now=who.now,
            price_eur=settings.sms_price_eur,
            threshold=settings.broadcast_approval_threshold,
        ),
    )
    quiet = next_allowed(when, settings) if is_quiet(when, settings) else None
    form = {"segment": segment, "message": message, "language": language, "send_at": send_at}
    return {
        "form": form,
        "seen": seen,
        "characters": gsm7_length(seen.sms_text),
        "quiet_until": quiet,
    }


@router.post("/broadcasts/preview")
def show_preview(
    who: Annotated[Visit, Depends(checked_visit)],
    segment: Annotated[str, Form()],
    message: Annotated[str, Form(max_length=1600)],
    language: Annotated[str, Form()] = "",
    send_at: Annotated[str, Form()] = "",
) -> Response:
    """The composer with the preview below it (the button: works without JavaScript)."""
    return _composer(who, **_preview(who, segment, message, language, send_at))


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
        context = _preview(who, segment, message, language, send_at)
    except ConsoleRefused as refused:
        return render(
            who, who.request, "broadcast_preview.html", seen=None, problem=refused.message
        )
    return render(who, who.request, "broadcast_preview.html", problem=None, **context)


@router.post("/broadcasts")
def compose(
    who: Annotated[Visit, Depends(checked_visit)],
    segment: Annotated[str, Form()],
    message: Annotated[str, Form(max_length=1600)],
    language: Annotated[str, Form()] = "",
    send_at: Annotated[str, Form()] = "",
) -> Response:
    """Draft and confirm in one step: queued, or held for a second person's approval."""
    settings = who.settings

    def work(session: Session) -> int:
        draft, _ = create_broadcast(
            session,
            staff=who.staff,
            segment=segment,
            message=message,
            language=_language(language),
            send_at=_send_at(who, send_at),
            now=who.now,
            price_eur=settings.sms_price_eur,
            threshold=settings.broadcast_approval_threshold,
        )
        confirm_broadcast(
            session,
            staff=who.staff,
            broadcast_id=draft.id or 0,
            now=who.now,
            threshold=settings.broadcast_approval_threshold,
        )
        return draft.id or 0

    return redirect(f"/broadcasts/{perform(who, work)}")


@router.get("/broadcasts/{broadcast_id}")
def report(broadcast_id: int, who: Annotated[Visit, Depends(visit)]) -> Response:
    def work(session: Session):  # type: ignore[no-untyped-def]
        found = broadcast_report(session, staff=who.staff, broadcast_id=broadcast_id)
        return found, broadcast_opted_out(session, broadcast_id=broadcast_id)

    found, opted_out = perform(who, work)
    refresh = found.status == "queued" and not found.finished
    return render(
        who,
        who.request,
        "broadcast.html",
        report=found,
        opted_out=opted_out,
        refresh=REFRESH_SECONDS if refresh else None,
    )


@router.post("/broadcasts/{broadcast_id}/approve")
def approve(broadcast_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    perform(
        who,
        lambda s: approve_broadcast(s, staff=who.staff, broadcast_id=broadcast_id, now=who.now),
    )
    return redirect(f"/broadcasts/{broadcast_id}")


@router.post("/broadcasts/{broadcast_id}/cancel")
def cancel(broadcast_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    perform(
        who,
        lambda s: cancel_broadcast(s, staff=who.staff, broadcast_id=broadcast_id, now=who.now),
    )
    return redirect(f"/broadcasts/{broadcast_id}")
