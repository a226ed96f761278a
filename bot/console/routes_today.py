"""Today: my places' sessions of the day with their attendees; present / absent in one tap;
a walk-in booked on someone's behalf."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlmodel import Session

from bot.console.web import ConsoleRefused, Visit, checked_visit, perform, redirect, render, visit
from storage.access import BookletProof
from storage.console_queries import find_people, place_names
from storage.slots_admin import Attendee, book_for, list_slots, mark_attendance, slot_attendees

__all__ = ["SessionOfDay", "router", "today_page"]

router = APIRouter()


@dataclass(frozen=True)
class SessionOfDay:
    slot: Any
    place: str
    attendees: list[Attendee]


def chosen_day(who: Visit, text: str = "") -> date:
    """The day asked for (`?day=2026-12-03`), else today in the configured time zone."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return who.now.astimezone(who.settings.tz).date()


def _sessions_of_day(who: Visit, day: date) -> list[SessionOfDay]:
    start = datetime.combine(day, time(), tzinfo=who.settings.tz)
    end = start + timedelta(days=1)

    def work(session: Session) -> list[SessionOfDay]:
        places = {
            pid: f"{name} ({commune})"
            for pid, name, commune in place_names(session, staff=who.staff)
        }
        slots = [
            slot
            for slot in list_slots(session, staff=who.staff, after=start)
            if slot.starts_at < end and not slot.cancelled
        ]
        return [
            SessionOfDay(
                slot,
                places.get(slot.place_id, str(slot.place_id)),
                slot_attendees(session, staff=who.staff, slot_id=slot.id or 0),
            )
            for slot in slots
        ]

    return perform(who, work)


def today_page(who: Visit, text: str = "") -> Response:
    day = chosen_day(who, text)
    is_today = day == who.now.astimezone(who.settings.tz).date()
    return render(
        who,
        who.request,
        "today.html",
        sessions=_sessions_of_day(who, day),
        day=day,
        is_today=is_today,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        here=f"/today?day={day.isoformat()}",
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
    policy = who.settings.no_show_policy
    perform(
        who,
        lambda s: mark_attendance(
            s,
            staff=who.staff,
            booking_id=booking_id,
            attended=attended == "1",
            no_show_policy=policy,
            now=who.now,
        ),
    )
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

    def work(session: Session) -> None:
        if code.strip():
            proof = BookletProof(number=person.strip(), code=code.strip())
            book_for(session, staff=who.staff, slot_id=slot_id, proof=proof, now=who.now)
            return
        hits = find_people(session, staff=who.staff, text=person)
        if len(hits) != 1:
            key = "walkin.none" if not hits else "walkin.many"
            raise ConsoleRefused(422, who.t(key, text=person))
        book_for(session, staff=who.staff, slot_id=slot_id, beneficiary_id=hits[0].id, now=who.now)

    perform(who, work)
    return redirect(back)
