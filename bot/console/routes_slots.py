"""Slots: a week per place; create, move and cancel a session, with who will be told (and by
which channel) shown before confirming. The actions are the staff API's storage calls."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlmodel import Session

from bot.console.web import ConsoleRefused, Visit, checked_visit, perform, redirect, render, visit
from storage.console_queries import place_names, slot_audience, topic_keys
from storage.models import Slot
from storage.slots_admin import cancel_slot, change_slot, create_slot, list_slots, slot_attendees

__all__ = ["router"]

router = APIRouter()


def _monday(who: Visit, text: str) -> date:
    try:
        day = date.fromisoformat(text) if text else who.now.astimezone(who.settings.tz).date()
    except ValueError:
        day = who.now.astimezone(who.settings.tz).date()
    return day - timedelta(days=day.weekday())


def _at(who: Visit, day: date, clock: str) -> datetime:
    try:
        return datetime.combine(day, time.fromisoformat(clock), tzinfo=who.settings.tz)
    except ValueError:
        raise ConsoleRefused(422, who.t("slots.bad_time")) from None


@router.get("/slots")
def week(
    who: Annotated[Visit, Depends(visit)], place: int = 0, week: str = "", done: str = ""
) -> Response:
    monday = _monday(who, week)
    start = datetime.combine(monday, time(), tzinfo=who.settings.tz)

    def work(session: Session):  # type: ignore[no-untyped-def]
        places = place_names(session, staff=who.staff)
        chosen = place or (places[0][0] if places else 0)
        slots = list_slots(session, staff=who.staff, after=start, place_id=chosen) if chosen else []
        return places, chosen, [s for s in slots if s.starts_at < start + timedelta(days=7)]

    places, chosen, slots = perform(who, work)
    days = [
        (
            monday + timedelta(days=n),
            [
                s
                for s in slots
                if s.starts_at.astimezone(who.settings.tz).date() == monday + timedelta(days=n)
            ],
        )
        for n in range(7)
    ]
    topics = perform(who, lambda s: topic_keys(s))
    return render(
        who,
        who.request,
        "slots.html",
        places=places,
        place=chosen,
        monday=monday,
        previous=monday - timedelta(days=7),
        following=monday + timedelta(days=7),
        days=days,
        topics=topics,
        done=done,
        query=who.request.query_params,
    )


@router.post("/slots")
def new_slot(
    who: Annotated[Visit, Depends(checked_visit)],
    place_id: Annotated[int, Form()],
    topic: Annotated[str, Form()],
    day: Annotated[date, Form()],
    starts: Annotated[str, Form()],
    ends: Annotated[str, Form()],
    capacity: Annotated[int, Form(ge=1, le=500)],
    title: Annotated[str, Form()] = "",
) -> Response:
    perform(
        who,
        lambda s: create_slot(
            s,
            staff=who.staff,
            place_id=place_id,
            topic=topic,
            title=title.strip() or None,
            starts_at=_at(who, day, starts),
            ends_at=_at(who, day, ends),
            capacity=capacity,
            now=who.now,
        ),
    )
    return redirect(f"/slots?place={place_id}&week={day.isoformat()}&done=created")


def _slot_and_audience(who: Visit, slot_id: int):  # type: ignore[no-untyped-def]
    def work(session: Session):  # type: ignore[no-untyped-def]
        people = slot_attendees(session, staff=who.staff, slot_id=slot_id)  # checks the place
        return (
            session.get(Slot, slot_id),
            people,
            slot_audience(session, slot_id=slot_id, now=who.now),
        )

    return perform(who, work)


@router.get("/slots/{slot_id}/{change}")
def confirm_change(slot_id: int, change: str, who: Annotated[Visit, Depends(visit)]) -> Response:
    """Before moving or cancelling: who is booked and how each will be told."""
    if change not in ("cancel", "move"):
        raise ConsoleRefused(404, "not found")
    slot, people, audience = _slot_and_audience(who, slot_id)
    return render(
        who,
        who.request,
        "slot_change.html",
        slot=slot,
        people=people,
        audience=audience,
        change=change,
    )


@router.post("/slots/{slot_id}/cancel")
def cancel(slot_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    settings = who.settings

    def work(session: Session) -> tuple[Slot | None, dict[str, int], int]:
        audience = slot_audience(session, slot_id=slot_id, now=who.now)
        told = cancel_slot(
            session,
            staff=who.staff,
            slot_id=slot_id,
            now=who.now,
            tz=settings.tz,
            two_way=settings.sms_two_way,
        )
        return session.get(Slot, slot_id), audience, told

    slot, audience, told = perform(who, work)
    return _after_change(who, slot, "cancelled", audience, told)


@router.post("/slots/{slot_id}/move")
def move(
    slot_id: int,
    who: Annotated[Visit, Depends(checked_visit)],
    day: Annotated[date, Form()],
    starts: Annotated[str, Form()],
    ends: Annotated[str, Form()],
    capacity: Annotated[int, Form(ge=1, le=500)],
) -> Response:
    settings = who.settings

    def work(session: Session) -> tuple[Slot | None, dict[str, int], int]:
        audience = slot_audience(session, slot_id=slot_id, now=who.now)
        before = session.get(Slot, slot_id)
        old_start = before.starts_at if before else None
        slot = change_slot(
            session,
            staff=who.staff,
            slot_id=slot_id,
            now=who.now,
            tz=settings.tz,
            two_way=settings.sms_two_way,
            starts_at=_at(who, day, starts),
            ends_at=_at(who, day, ends),
            capacity=capacity,
        )
        moved = old_start is not None and slot.starts_at != old_start
        return slot, audience, sum(audience.values()) if moved else 0

    slot, audience, told = perform(who, work)
    return _after_change(who, slot, "moved", audience if told else {}, told)


def _after_change(
    who: Visit, slot: Slot | None, done: str, audience: dict[str, int], told: int
) -> Response:
    sms, telegram = audience.get("sms", 0), audience.get("telegram", 0)
    week = slot.starts_at.astimezone(who.settings.tz).date().isoformat() if slot else ""
    place = slot.place_id if slot else 0
    return redirect(
        f"/slots?place={place}&week={week}&done={done}&sms={sms}&telegram={telegram}&told={told}"
    )
