"""Beneficiaries: register, read their file, change their phone, link Telegram; unlock a
booklet locked after too many wrong codes.

An advisor acts only on the people booked at their places or registered by them; anyone else
is a 404 like a person who does not exist (storage.access, docs/security.md). The rules and
the audit are the handlers' (`bot.staff.people`), shared with the console and the CLI."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from bot.api.auth import Staff
from bot.api.models import LinkOut
from bot.api.plumbing import RecordId, bot_username, handle
from bot.staff.people import (
    ChangePhone,
    IssueTelegramLink,
    PersonFile,
    RegisterBeneficiary,
    UnlockBooklet,
)

__all__ = [
    "BeneficiaryFileOut",
    "BeneficiaryIn",
    "BeneficiaryOut",
    "BookletUnlocked",
    "PhoneIn",
    "router",
]

router = APIRouter()


class BeneficiaryIn(BaseModel):
    first_name: str = Field(min_length=1, max_length=100)
    phone: str = Field(examples=["06 12 34 56 78"])
    booklet_number: str = Field(min_length=1, max_length=32)
    vouchers: int = Field(ge=1, le=20)
    expires_on: date
    verification_code: str = Field(min_length=1, max_length=16)
    language: Literal["fr", "en"] = "fr"
    commune: str | None = Field(None, description="name, postcode or INSEE code")


class PhoneIn(BaseModel):
    phone: str


class BeneficiaryOut(BaseModel):
    id: int
    first_name: str
    phone: str | None
    telegram_linked: bool
    language: str
    commune_insee: str | None
    opted_out: bool
    reminders_enabled: bool


class BeneficiaryFileOut(BaseModel):
    beneficiary: BeneficiaryOut
    booklets: list[str]
    bookings: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def _person_out(person: Any) -> BeneficiaryOut:
    return BeneficiaryOut.model_validate(
        {**person.model_dump(), "telegram_linked": person.telegram_chat_id is not None}
    )


@router.post("/beneficiaries", response_model=BeneficiaryOut, status_code=201)
def register(body: BeneficiaryIn, request: Request, staff: Staff) -> BeneficiaryOut:
    """Register a new beneficiary with a new booklet and its vouchers. A phone or booklet
    number already registered is a 409 that names it ("phone already registered", "booklet
    number already exists: …"): never merged into the known person."""
    return _person_out(handle(request, staff, RegisterBeneficiary(**body.model_dump())))


@router.get("/beneficiaries/{beneficiary_id}", response_model=BeneficiaryFileOut)
def beneficiary(beneficiary_id: RecordId, request: Request, staff: Staff) -> BeneficiaryFileOut:
    """A beneficiary's record, booklets, bookings and latest messages."""
    found = handle(request, staff, PersonFile(beneficiary_id=beneficiary_id))
    return BeneficiaryFileOut(
        beneficiary=_person_out(found.person),
        booklets=found.booklets,
        bookings=found.bookings,
        messages=found.messages,
    )


@router.put("/beneficiaries/{beneficiary_id}/phone", response_model=BeneficiaryOut)
def new_phone(
    beneficiary_id: RecordId, body: PhoneIn, request: Request, staff: Staff
) -> BeneficiaryOut:
    """Change the phone number (normalised to E.164); the old number is told by SMS."""
    command = ChangePhone(beneficiary_id=beneficiary_id, phone=body.phone)
    return _person_out(handle(request, staff, command))


@router.post("/beneficiaries/{beneficiary_id}/telegram-link", response_model=LinkOut)
def beneficiary_link(beneficiary_id: RecordId, request: Request, staff: Staff) -> LinkOut:
    """A Telegram deep link that links the chat opening it to this beneficiary: one use,
    valid 7 days; a new link revokes the previous one."""
    command = IssueTelegramLink(beneficiary_id=beneficiary_id, bot_username=bot_username(request))
    return LinkOut(link=handle(request, staff, command))


class BookletUnlocked(BaseModel):
    number: str
    failed_codes: int
    locked: bool


@router.post("/booklets/{number}/unlock", response_model=BookletUnlocked)
def unlock(
    number: Annotated[str, PathParam(min_length=1, max_length=32)], request: Request, staff: Staff
) -> BookletUnlocked:
    """Admins: a booklet locked after 10 wrong codes accepts its code again (audited)."""
    booklet = handle(request, staff, UnlockBooklet(number=number))
    return BookletUnlocked(number=booklet.number, failed_codes=0, locked=False)
