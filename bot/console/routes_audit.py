"""The audit log, newest first, a page at a time (admins only, like the other admin reads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlmodel import Session

from bot.console.web import Visit, perform, render, visit
from bot.staff_api.plumbing import admin_only
from storage.console_queries import audit_entries
from storage.models import AuditEntry

__all__ = ["router"]

router = APIRouter()
PAGE = 100


@router.get("/audit")
def audit_log(who: Annotated[Visit, Depends(visit)], before: int | None = None) -> Response:
    def work(session: Session) -> list[AuditEntry]:
        admin_only(who.staff, "read the audit log")
        return audit_entries(session, before_id=before, limit=PAGE)

    entries = perform(who, work)
    older = entries[-1].id if len(entries) == PAGE else None
    return render(who, who.request, "audit.html", entries=entries, older=older)
