"""Bookings on a slot: the attendance sheet, booking on someone's behalf, attendance."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bot.staff_api.auth import Staff
from bot.staff_api.plumbing import IdField, RecordId, act, now, settings_of
from storage.access import BookletProof
from storage.slots_admin import book_for, mark_attendance, slot_attendees

__all__ = ["AttendanceIn", "AttendeeOut", "BookingIn", "BookingOut", "router"]

router = APIRouter()


class BookingIn(BaseModel):
    """Someone you may act on (`beneficiary_id`), or a walk-in: the number and verification
    code of the booklet in front of you (then `beneficiary_id` may be left out)."""

    beneficiary_id: IdField | None = None
    booklet_number: str | None = Field(None, min_length=1, max_length=32)
    verification_code: str | None = Field(None, min_length=1, max_length=16)

    def proof(self) -> BookletProof | None:
        if self.booklet_number is None and self.verification_code is None:
            return None
        return BookletProof(self.booklet_number or "", self.verification_code or "")


class BookingOut(BaseModel):
    id: int
    slot_id: int
    beneficiary_id: int
    status: str


class AttendeeOut(BaseModel):
    booking_id: int
    beneficiary_id: int
    first_name: str
    status: str


class AttendanceIn(BaseModel):
    attended: bool = Field(description="true: attended (voucher redeemed); false: no-show")


def _booking_out(booking: Any) -> BookingOut:
    return BookingOut.model_validate(booking, from_attributes=True)


@router.get("/slots/{slot_id}/bookings", response_model=list[AttendeeOut])
def attendees(slot_id: RecordId, request: Request, staff: Staff) -> list[AttendeeOut]:
    """Who is booked on the slot, for the attendance sheet."""
    return act(
        request,
        staff,
        lambda s: [
            AttendeeOut(**asdict(row)) for row in slot_attendees(s, staff=staff, slot_id=slot_id)
        ],
    )


@router.post("/slots/{slot_id}/bookings", response_model=BookingOut, status_code=201)
def book(slot_id: RecordId, body: BookingIn, request: Request, staff: Staff) -> BookingOut:
    """Book a seat on behalf of a beneficiary (one voucher is reserved). An advisor books
    the people they may act on; a walk-in with their booklet's number and verification code."""
    return act(
        request,
        staff,
        lambda s: _booking_out(
            book_for(
                s,
                staff=staff,
                slot_id=slot_id,
                beneficiary_id=body.beneficiary_id,
                proof=body.proof(),
                now=now(),
            )
        ),
    )


@router.post("/bookings/{booking_id}/attendance", response_model=BookingOut)
def attendance(
    booking_id: RecordId, body: AttendanceIn, request: Request, staff: Staff
) -> BookingOut:
    """Attended redeems the voucher; a no-show follows PASSNUM_NO_SHOW_POLICY."""
    policy = settings_of(request).no_show_policy
    return act(
        request,
        staff,
        lambda s: _booking_out(
            mark_attendance(
                s,
                staff=staff,
                booking_id=booking_id,
                attended=body.attended,
                no_show_policy=policy,
                now=now(),
            )
        ),
    )
