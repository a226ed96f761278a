"""Who is calling the staff API: the bearer token, checked and audited when refused."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from storage.db import unit_of_work
from storage.staff import StaffIdentity, actor_of, audit
from storage.staff_tokens import TokenRefused, check_token

__all__ = ["BOOTSTRAP_ADMIN", "Staff", "bearer", "current_staff"]

bearer = HTTPBearer(auto_error=False)
BOOTSTRAP_ADMIN = StaffIdentity(id=None, name="bootstrap-admin", role="admin", place_ids=())


def current_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffIdentity:
    """The staff member behind the bearer token; 401 (audited) when it is missing, unknown,
    expired or revoked, with a message that says which."""
    services = request.app.state.services
    token = credentials.credentials if credentials else ""
    bootstrap = services.settings.staff_token
    if bootstrap and token and hmac.compare_digest(token.encode(), bootstrap.encode()):
        return BOOTSTRAP_ADMIN
    now = datetime.now(UTC)
    ttl = timedelta(days=services.settings.staff_token_ttl_days)
    with unit_of_work(services.engine) as session:
        try:
            if not token:
                raise TokenRefused("missing", "a valid staff bearer token is required")
            return check_token(session, token=token, now=now, ttl=ttl)
        except TokenRefused as refused:
            audit(
                session,
                actor=actor_of(refused.member) if refused.member else "anonymous",
                action="staff_auth_refused",
                record=request.url.path,
                detail=_DETAILS[refused.reason],
                now=now,
            )
            session.commit()
            raise HTTPException(
                401, refused.message, headers={"WWW-Authenticate": "Bearer"}
            ) from None


_DETAILS = {
    "missing": "no token",
    "unknown": "wrong token",
    "expired": "expired token",
    "revoked": "revoked token",
}

Staff = Annotated[StaffIdentity, Depends(current_staff)]
