"""Who is calling the staff API: the bearer token, checked and audited when refused
(`StaffService.identify`, the console's sign-in check too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.staff import StaffService
from storage.staff import BOOTSTRAP_ADMIN, StaffIdentity
from storage.staff_tokens import TokenRefused

__all__ = ["BOOTSTRAP_ADMIN", "Staff", "bearer", "current_staff"]

bearer = HTTPBearer(auto_error=False)


def current_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffIdentity:
    """The staff member behind the bearer token; 401 (audited) when it is missing, unknown,
    expired or revoked, with a message that says which."""
    token = credentials.credentials if credentials else ""
    service: StaffService = request.app.state.services.staff
    try:
        return service.identify(token, record=request.url.path)
    except TokenRefused as refused:
        raise HTTPException(401, refused.message, headers={"WWW-Authenticate": "Bearer"}) from None


Staff = Annotated[StaffIdentity, Depends(current_staff)]
