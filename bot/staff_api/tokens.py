"""Staff tokens: an admin revokes a member; a member takes a new token for themselves.

Only your own token can be renewed here: handing out another member's fresh token would let an
admin act, and approve broadcasts, as that member (docs/security.md, "Staff tokens").
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from bot.staff_api.auth import Staff
from bot.staff_api.plumbing import RecordId, act, admin_only, now
from storage.models import Staff as StaffRow
from storage.staff import StaffRefused
from storage.staff_tokens import new_token, revoke_member

__all__ = ["NewToken", "Revoked", "router"]

router = APIRouter()


class Revoked(BaseModel):
    id: int
    name: str
    revoked_at: datetime


class NewToken(BaseModel):
    id: int
    token: str = Field(description="the new API token: shown once, stored hashed")
    issued_at: datetime


@router.post("/members/{staff_id}/revoke", response_model=Revoked)
def revoke(staff_id: RecordId, request: Request, staff: Staff) -> Revoked:
    """Revoke a staff member's token (admins only): every later call with it gets a 401 and
    their Telegram chat is no longer staff. Audited."""

    def work(session: Session) -> Revoked:
        admin_only(staff, "revoke staff tokens")
        member = session.get(StaffRow, staff_id)
        if member is None:
            raise StaffRefused("not_found", f"no staff member {staff_id}")
        revoke_member(session, member=member, by=staff, now=now())
        return Revoked(id=staff_id, name=member.name, revoked_at=member.revoked_at or now())

    return act(request, staff, work)


@router.post("/me/token", response_model=NewToken)
def renew_my_token(request: Request, staff: Staff) -> NewToken:
    """Replace your own token with a new one (before it expires); the old one stops working."""

    def work(session: Session) -> NewToken:
        member = session.get(StaffRow, staff.id) if staff.id is not None else None
        if member is None:
            raise StaffRefused(
                "invalid", "the bootstrap token is renewed by changing PASSNUM_STAFF_TOKEN"
            )
        token = new_token(session, member=member, by=staff, now=now())
        return NewToken(id=staff.id or 0, token=token, issued_at=member.token_issued_at)

    return act(request, staff, work)
