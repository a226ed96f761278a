"""Staff members (who am I, add a member, link Telegram) and the help inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from bot.api.auth import Staff
from bot.api.models import LinkOut
from bot.api.plumbing import IdField, RecordId, act, bot_username, handle, now
from bot.staff.members import AddStaffMember, IssueStaffTelegramLink
from storage.beneficiaries_admin import answer_help_request
from storage.db import unit_of_work
from storage.staff import open_help_requests

__all__ = [
    "AnswerIn",
    "AnswerOut",
    "HelpRequestOut",
    "StaffCreate",
    "StaffCreated",
    "StaffOut",
    "router",
]

router = APIRouter()


class HelpRequestOut(BaseModel):
    id: int
    beneficiary_id: int | None
    channel: str
    text: str
    created_at: datetime


class StaffOut(BaseModel):
    id: int | None
    name: str
    role: str
    place_ids: list[int]


class StaffCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "advisor"] = "advisor"
    place_ids: list[IdField] = []


class StaffCreated(StaffOut):
    token: str = Field(description="the API token: shown once, stored hashed")


class AnswerIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class AnswerOut(BaseModel):
    id: int
    answer: str
    answered_at: datetime


@router.get("/help-requests", response_model=list[HelpRequestOut])
def list_help_requests(request: Request, staff: Staff) -> list[HelpRequestOut]:
    """Messages left by beneficiaries through the help flow, not yet answered."""
    with unit_of_work(request.app.state.services.engine) as session:
        rows = open_help_requests(session, staff=staff)
        return [HelpRequestOut.model_validate(row, from_attributes=True) for row in rows]


@router.get("/me", response_model=StaffOut)
def whoami(staff: Staff) -> StaffOut:
    """Who the bearer token belongs to."""
    return StaffOut(id=staff.id, name=staff.name, role=staff.role, place_ids=list(staff.place_ids))


@router.post("/members", response_model=StaffCreated, status_code=201)
def add_member(body: StaffCreate, request: Request, staff: Staff) -> StaffCreated:
    """Create a staff member (admins only); the answer holds their token, once."""
    command = AddStaffMember(name=body.name, role=body.role, place_ids=tuple(body.place_ids))
    member = handle(request, staff, command)
    return StaffCreated(
        id=member.id,
        name=member.name,
        role=member.role,
        place_ids=member.place_ids,
        token=member.token,
    )


@router.post("/members/{staff_id}/telegram-link", response_model=LinkOut)
def member_telegram_link(staff_id: RecordId, request: Request, staff: Staff) -> LinkOut:
    """A one-time link that makes the Telegram chat opening it this staff member's."""
    command = IssueStaffTelegramLink(staff_id=staff_id, bot_username=bot_username(request))
    return LinkOut(link=handle(request, staff, command))


@router.post("/help-requests/{request_id}/answer", response_model=AnswerOut)
def answer_help(request_id: RecordId, body: AnswerIn, request: Request, staff: Staff) -> AnswerOut:
    """Answer a help message: it goes to the person on their channel, through the outbox."""

    def work(session: Session) -> AnswerOut:
        row = answer_help_request(
            session, staff=staff, request_id=request_id, text=body.text, now=now()
        )
        assert row.answered_at is not None  # answer_help_request just set it
        return AnswerOut(id=request_id, answer=row.answer or "", answered_at=row.answered_at)

    return act(request, staff, work)
