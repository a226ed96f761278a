"""Slots: a week per place; create, move and cancel a session, with who will be told (and by
which channel) shown before confirming. The commands are the staff API's (`bot.staff.slots`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from bot.console.web import ConsoleRefused, Visit, checked_visit, handle, redirect, render, visit
from bot.staff.slots import (
    CancelSlot,
    ChangeSlot,
    CreateSlot,
    SlotChanged,
    SlotChangeImpact,
    WeekOfSlots,
)

__all__ = ["router"]

router = APIRouter()


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _at(who: Visit, day: date, clock: str) -> datetime:
    """A day and an hh:mm from the form, in the configured zone (the handler's too)."""
    try:
        return datetime.combine(day, time.fromisoformat(clock))
    except ValueError:
        raise ConsoleRefused(422, who.t("slots.bad_time")) from None


@router.get("/slots")
def week(
    who: Annotated[Visit, Depends(visit)], place: int = 0, week: str = "", done: str = ""
) -> Response:
    shown = handle(who, WeekOfSlots(place_id=place or None, day=_day(week)))
    return render(
        who,
        who.request,
        "slots.html",
        places=shown.places,
        place=shown.place_id,
        monday=shown.monday,
        previous=shown.monday - timedelta(days=7),
        following=shown.monday + timedelta(days=7),
        days=shown.days,
        topics=shown.topics,
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
    command = CreateSlot(
        place_id=place_id,
        topic=topic,
        title=title.strip() or None,
        starts_at=_at(who, day, starts),
        ends_at=_at(who, day, ends),
        capacity=capacity,
    )
    handle(who, command)
    return redirect(f"/slots?place={place_id}&week={day.isoformat()}&done=created")


@router.get("/slots/{slot_id}/{change}")
def confirm_change(slot_id: int, change: str, who: Annotated[Visit, Depends(visit)]) -> Response:
    """Before moving or cancelling: who is booked and how each will be told."""
    if change not in ("cancel", "move"):
        raise ConsoleRefused(404, "not found")
    impact = handle(who, SlotChangeImpact(slot_id=slot_id))
    return render(
        who,
        who.request,
        "slot_change.html",
        slot=impact.slot,
        people=impact.people,
        audience=impact.by_channel,
        change=change,
    )


@router.post("/slots/{slot_id}/cancel")
def cancel(slot_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    return _after_change(who, handle(who, CancelSlot(slot_id=slot_id)), "cancelled")


@router.post("/slots/{slot_id}/move")
def move(
    slot_id: int,
    who: Annotated[Visit, Depends(checked_visit)],
    day: Annotated[date, Form()],
    starts: Annotated[str, Form()],
    ends: Annotated[str, Form()],
    capacity: Annotated[int, Form(ge=1, le=500)],
) -> Response:
    command = ChangeSlot(
        slot_id=slot_id,
        starts_at=_at(who, day, starts),
        ends_at=_at(who, day, ends),
        capacity=capacity,
    )
    return _after_change(who, handle(who, command), "moved")


def _after_change(who: Visit, changed: SlotChanged, done: str) -> Response:
    slot, told = changed.slot, changed.by_channel
    week = slot.starts_at.astimezone(who.settings.tz).date().isoformat()
    return redirect(
        f"/slots?place={slot.place_id}&week={week}&done={done}"
        f"&sms={told.get('sms', 0)}&telegram={told.get('telegram', 0)}&told={changed.told}"
    )
