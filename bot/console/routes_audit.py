"""The audit log, newest first, a page at a time (admins only: `bot.staff.stats.AuditLog`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from bot.console.web import Visit, handle, render, visit
from bot.staff.stats import AuditLog

__all__ = ["router"]

router = APIRouter()
PAGE = 100


@router.get("/audit")
def audit_log(who: Annotated[Visit, Depends(visit)], before: int | None = None) -> Response:
    entries = handle(who, AuditLog(before_id=before, limit=PAGE))
    older = entries[-1].id if len(entries) == PAGE else None
    return render(who, who.request, "audit.html", entries=entries, older=older)
