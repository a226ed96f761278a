"""Who is calling the staff API: the bearer token, checked and audited when refused."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from storage.db import unit_of_work
from storage.staff import StaffIdentity, audit, authenticate_token

__all__ = ["Staff", "bearer", "current_staff"]

bearer = HTTPBearer(auto_error=False)


def current_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffIdentity:
    """The staff member behind the bearer token; 401 (audited) otherwise."""
    services = request.app.state.services
    token = credentials.credentials if credentials else ""
    bootstrap = services.settings.staff_token
    identity: StaffIdentity | None = None
    with unit_of_work(services.engine) as session:
        if bootstrap and token and hmac.compare_digest(token.encode(), bootstrap.encode()):
            identity = StaffIdentity(id=None, name="bootstrap-admin", role="admin", place_ids=())
        elif token:
            identity = authenticate_token(session, token=token)
        if identity is None:
            audit(
                session,
                actor="anonymous",
                action="staff_auth_refused",
                record=request.url.path,
                detail="no token" if not token else "wrong token",
                now=datetime.now(UTC),
            )
            session.commit()
            raise HTTPException(
                401,
                "a valid staff bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
    return identity


Staff = Annotated[StaffIdentity, Depends(current_staff)]
