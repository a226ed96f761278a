"""Today: my places' sessions of the day with their attendees; present / absent in one tap;
a walk-in booked on someone's behalf. The commands are the staff API's (`bot.staff.bookings`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from bot.console.web import ConsoleRefused, Visit, checked_visit, handle, redirect, render, visit
from bot.staff.bookings import BookOnBehalf, BookPersonFound, MarkAttendance, SessionsOfDay
from storage.access import BookletProof

__all__ = ["router", "today_page"]

router = APIRouter()


def _day(text: str) -> date | None:
    """The day asked for (`?day=2026-12-03`); None (today) when there is none."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def today_page(who: Visit, text: str = "") -> Response:
    shown = handle(who, SessionsOfDay(day=_day(text)))
    return render(
        who,
        who.request,
        "today.html",
        sessions=shown.sessions,
        day=shown.day,
        is_today=shown.is_today,
        previous=shown.day - timedelta(days=1),
        following=shown.day + timedelta(days=1),
        here=f"/today?day={shown.day.isoformat()}",
    )


@router.get("/today")
def today(who: Annotated[Visit, Depends(visit)], day: str = "") -> Response:
    return today_page(who, day)


@router.post("/attendance/{booking_id}")
def attendance(
    booking_id: int,
    who: Annotated[Visit, Depends(checked_visit)],
    attended: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/today",
) -> Response:
    """Present redeems the voucher; absent follows the no-show policy (the API's rule)."""
    handle(who, MarkAttendance(booking_id=booking_id, attended=attended == "1"))
    return redirect(back)


@router.post("/slots/{slot_id}/walk-in")
def walk_in(
    slot_id: int,
    who: Annotated[Visit, Depends(checked_visit)],
    person: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/today",
    code: Annotated[str, Form()] = "",
) -> Response:
    """Book a seat for someone found by booklet number, phone or first name (one match), or
    for a walk-in the advisor may not act on yet: booklet number and its code (storage.access)."""
    if code.strip():
        proof = BookletProof(number=person.strip(), code=code.strip())
        handle(who, BookOnBehalf(slot_id=slot_id, proof=proof))
        return redirect(back)
    found = handle(who, BookPersonFound(slot_id=slot_id, search=person))
    if found.booking is None:
        key = "walkin.none" if not found.matches else "walkin.many"
        raise ConsoleRefused(422, who.t(key, text=person))
    return redirect(back)
