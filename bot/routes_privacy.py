"""GDPR routes for admins: export everything about a beneficiary, erase them. The rule and the
audit are the handlers' (`storage.privacy_admin`), shared with the console."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from bot.routes_staff import current_staff
from bot.staff_api.plumbing import RecordId, act, now
from storage.privacy_admin import erase_as_staff, export_as_staff
from storage.staff import StaffIdentity

__all__ = ["router"]

router = APIRouter(prefix="/staff/privacy", tags=["privacy"])
Staff = Annotated[StaffIdentity, Depends(current_staff)]


@router.get("/{beneficiary_id}/export")
def export(request: Request, beneficiary_id: RecordId, staff: Staff) -> dict[str, Any]:
    """Everything held about the beneficiary, as JSON (right of access)."""
    return act(
        request,
        staff,
        lambda s: export_as_staff(s, staff=staff, beneficiary_id=beneficiary_id, now=now()),
    )


@router.post("/{beneficiary_id}/erase", status_code=204)
def erase(request: Request, beneficiary_id: RecordId, staff: Staff) -> None:
    """Erase the beneficiary's personal data; statistics keep their counts."""
    act(
        request,
        staff,
        lambda s: erase_as_staff(s, staff=staff, beneficiary_id=beneficiary_id, now=now()),
    )
