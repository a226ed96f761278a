"""GDPR routes for admins: export everything about a beneficiary, erase them. The rule and the
audit are the handlers' (`bot.staff.privacy`), shared with the console and `passnum privacy`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from bot.api.plumbing import RecordId, handle
from bot.api.routes import current_staff
from bot.staff.privacy import ErasePerson, ExportPerson
from storage.staff import StaffIdentity

__all__ = ["router"]

router = APIRouter(prefix="/staff/privacy", tags=["privacy"])
Staff = Annotated[StaffIdentity, Depends(current_staff)]


@router.get("/{beneficiary_id}/export")
def export(request: Request, beneficiary_id: RecordId, staff: Staff) -> dict[str, Any]:
    """Everything held about the beneficiary, as JSON (right of access)."""
    return handle(request, staff, ExportPerson(beneficiary_id=beneficiary_id))


@router.post("/{beneficiary_id}/erase", status_code=204)
def erase(request: Request, beneficiary_id: RecordId, staff: Staff) -> None:
    """Erase the beneficiary's personal data; statistics keep their counts."""
    handle(request, staff, ErasePerson(beneficiary_id=beneficiary_id))
