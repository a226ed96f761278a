"""Bookings on a slot: the attendance sheet, booking on someone's behalf, attendance."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bot.api.auth import Staff
from bot.api.plumbing import IdField, RecordId, handle
from bot.staff.bookings import BookingView, BookOnBehalf, MarkAttendance, SlotAttendees
from storage.access import BookletProof

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


def _booking_out(booking: BookingView) -> BookingOut:
    return BookingOut.model_validate(booking, from_attributes=True)


@router.get("/slots/{slot_id}/bookings", response_model=list[AttendeeOut])
def attendees(slot_id: RecordId, request: Request, staff: Staff) -> list[AttendeeOut]:
    """Who is booked on the slot, for the attendance sheet."""
    people = handle(request, staff, SlotAttendees(slot_id=slot_id))
    return [AttendeeOut(**asdict(row)) for row in people]


@router.post("/slots/{slot_id}/bookings", response_model=BookingOut, status_code=201)
def book(slot_id: RecordId, body: BookingIn, request: Request, staff: Staff) -> BookingOut:
    """Book a seat on behalf of a beneficiary (one voucher is reserved). An advisor books
    the people they may act on; a walk-in with their booklet's number and verification code."""
    command = BookOnBehalf(slot_id=slot_id, beneficiary_id=body.beneficiary_id, proof=body.proof())
    return _booking_out(handle(request, staff, command))


@router.post("/bookings/{booking_id}/attendance", response_model=BookingOut)
def attendance(
    booking_id: RecordId, body: AttendanceIn, request: Request, staff: Staff
) -> BookingOut:
    """Attended redeems the voucher; a no-show follows PASSNUM_NO_SHOW_POLICY."""
    command = MarkAttendance(booking_id=booking_id, attended=body.attended)
    return _booking_out(handle(request, staff, command))
