"""Slots (sessions at a place): list, create, change and cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from bot.staff_api.auth import Staff
from bot.staff_api.plumbing import MAX_ID, IdField, RecordId, act, aware, local, now, settings_of
from storage.models import Slot as SlotRow
from storage.slots_admin import cancel_slot, change_slot, create_slot, list_slots

__all__ = ["CancelOut", "SlotChange", "SlotIn", "SlotOut", "router"]

router = APIRouter()


class SlotIn(BaseModel):
    place_id: IdField
    topic: str = Field(examples=["email"])
    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(ge=1, le=500)
    title: str | None = None
    language: Literal["fr", "en"] = "fr"


class SlotChange(BaseModel):
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    capacity: int | None = Field(None, ge=1, le=500)


class SlotOut(BaseModel):
    id: int
    place_id: int
    topic: str
    title: str | None
    language: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    cancelled: bool


class CancelOut(BaseModel):
    slot: SlotOut
    notified: int = Field(description="messages queued to the people who were booked")


def _slot_out(slot: Any) -> SlotOut:
    return SlotOut.model_validate(slot, from_attributes=True)


@router.get("/slots", response_model=list[SlotOut])
def slots(
    request: Request, staff: Staff, place_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> list[SlotOut]:
    """Upcoming slots of your places (or of one place)."""
    return act(
        request,
        staff,
        lambda s: [
            _slot_out(row) for row in list_slots(s, staff=staff, after=now(), place_id=place_id)
        ],
    )


@router.post("/slots", response_model=SlotOut, status_code=201)
def new_slot(body: SlotIn, request: Request, staff: Staff) -> SlotOut:
    """Create a session at one of your places."""
    tz = settings_of(request).tz
    return act(
        request,
        staff,
        lambda s: _slot_out(
            create_slot(
                s,
                staff=staff,
                place_id=body.place_id,
                topic=body.topic,
                title=body.title,
                starts_at=aware(body.starts_at, tz),
                ends_at=aware(body.ends_at, tz),
                capacity=body.capacity,
                language=body.language,
                now=now(),
            )
        ),
    )


@router.patch("/slots/{slot_id}", response_model=SlotOut)
def edit_slot(slot_id: RecordId, body: SlotChange, request: Request, staff: Staff) -> SlotOut:
    """Change the time and/or capacity; booked people are told when the time moves."""
    settings = settings_of(request)
    return act(
        request,
        staff,
        lambda s: _slot_out(
            change_slot(
                s,
                staff=staff,
                slot_id=slot_id,
                now=now(),
                tz=settings.tz,
                two_way=settings.sms_two_way,
                starts_at=local(body.starts_at, settings),
                ends_at=local(body.ends_at, settings),
                capacity=body.capacity,
            )
        ),
    )


@router.post("/slots/{slot_id}/cancel", response_model=CancelOut)
def drop_slot(slot_id: RecordId, request: Request, staff: Staff) -> CancelOut:
    """Cancel the slot: vouchers go back and the booked people are told."""
    settings = settings_of(request)

    def work(session: Session) -> CancelOut:
        told = cancel_slot(
            session,
            staff=staff,
            slot_id=slot_id,
            now=now(),
            tz=settings.tz,
            two_way=settings.sms_two_way,
        )
        return CancelOut(slot=_slot_out(session.get(SlotRow, slot_id)), notified=told)

    return act(request, staff, work)
