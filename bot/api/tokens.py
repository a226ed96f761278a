"""Staff tokens: an admin revokes a member; a member takes a new token for themselves.

Only your own token can be renewed here: handing out another member's fresh token would let an
admin act, and approve broadcasts, as that member (docs/security.md, "Staff tokens").
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bot.api.auth import Staff
from bot.api.plumbing import RecordId, handle
from bot.staff.members import RenewOwnToken, RevokeStaffMember

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
    member = handle(request, staff, RevokeStaffMember(member=staff_id))
    return Revoked(id=member.id, name=member.name, revoked_at=member.revoked_at)


@router.post("/me/token", response_model=NewToken)
def renew_my_token(request: Request, staff: Staff) -> NewToken:
    """Replace your own token with a new one (before it expires); the old one stops working."""
    renewed = handle(request, staff, RenewOwnToken())
    return NewToken(id=renewed.id, token=renewed.token, issued_at=renewed.issued_at)
