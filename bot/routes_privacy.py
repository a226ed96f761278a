"""GDPR routes for admins: export everything about a beneficiary, erase them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from bot.routes_staff import current_staff
from bot.staff_api.plumbing import RecordId
from storage.db import unit_of_work
from storage.privacy import erase_beneficiary, export_beneficiary
from storage.staff import StaffIdentity, audit

__all__ = ["router"]

router = APIRouter(prefix="/staff/privacy", tags=["privacy"])
Staff = Annotated[StaffIdentity, Depends(current_staff)]


def _admin(request: Request, staff: StaffIdentity, action: str, beneficiary_id: int) -> None:
    if staff.is_admin:
        return
    with unit_of_work(request.app.state.services.engine) as session:
        audit(
            session,
            actor=f"staff:{staff.id}",
            action=f"{action}_refused",
            record=f"beneficiary:{beneficiary_id}",
            now=datetime.now(UTC),
        )
        session.commit()
    raise HTTPException(403, "only an admin may do this")


@router.get("/{beneficiary_id}/export")
def export(request: Request, beneficiary_id: RecordId, staff: Staff) -> dict[str, Any]:
    """Everything held about the beneficiary, as JSON (right of access)."""
    _admin(request, staff, "privacy_export", beneficiary_id)
    with unit_of_work(request.app.state.services.engine) as session:
        try:
            data = export_beneficiary(session, beneficiary_id=beneficiary_id)
        except LookupError:
            raise HTTPException(404, "no such beneficiary") from None
        audit(
            session,
            actor=f"staff:{staff.id or staff.name}",
            action="privacy_export",
            record=f"beneficiary:{beneficiary_id}",
            now=datetime.now(UTC),
        )
        session.commit()
    return data


@router.post("/{beneficiary_id}/erase", status_code=204)
def erase(request: Request, beneficiary_id: RecordId, staff: Staff) -> None:
    """Erase the beneficiary's personal data; statistics keep their counts."""
    _admin(request, staff, "privacy_erase", beneficiary_id)
    with unit_of_work(request.app.state.services.engine) as session:
        try:
            erase_beneficiary(
                session,
                beneficiary_id=beneficiary_id,
                actor=f"staff:{staff.id or staff.name}",
                now=datetime.now(UTC),
            )
        except LookupError:
            raise HTTPException(404, "no such beneficiary") from None
        session.commit()
