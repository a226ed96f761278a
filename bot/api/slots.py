"""Slots (sessions at a place): list, create, change and cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from bot.api.auth import Staff
from bot.api.plumbing import MAX_ID, IdField, RecordId, handle
from bot.staff.slots import CancelSlot, ChangeSlot, CreateSlot, ListSlots, SlotView

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


def _slot_out(slot: SlotView) -> SlotOut:
    return SlotOut.model_validate(slot, from_attributes=True)


@router.get("/slots", response_model=list[SlotOut])
def slots(
    request: Request, staff: Staff, place_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> list[SlotOut]:
    """Upcoming slots of your places (or of one place)."""
    return [_slot_out(slot) for slot in handle(request, staff, ListSlots(place_id=place_id))]


@router.post("/slots", response_model=SlotOut, status_code=201)
def new_slot(body: SlotIn, request: Request, staff: Staff) -> SlotOut:
    """Create a session at one of your places."""
    command = CreateSlot(
        place_id=body.place_id,
        topic=body.topic,
        title=body.title,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        capacity=body.capacity,
        language=body.language,
    )
    return _slot_out(handle(request, staff, command))


@router.patch("/slots/{slot_id}", response_model=SlotOut)
def edit_slot(slot_id: RecordId, body: SlotChange, request: Request, staff: Staff) -> SlotOut:
    """Change the time and/or capacity; booked people are told when the time moves."""
    command = ChangeSlot(
        slot_id=slot_id, starts_at=body.starts_at, ends_at=body.ends_at, capacity=body.capacity
    )
    return _slot_out(handle(request, staff, command).slot)


@router.post("/slots/{slot_id}/cancel", response_model=CancelOut)
def drop_slot(slot_id: RecordId, request: Request, staff: Staff) -> CancelOut:
    """Cancel the slot: vouchers go back and the booked people are told."""
    cancelled = handle(request, staff, CancelSlot(slot_id=slot_id))
    return CancelOut(slot=_slot_out(cancelled.slot), notified=cancelled.told)
