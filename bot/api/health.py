"""GET /healthz: the app answers and so does the database."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

__all__ = ["router"]

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 when the database answers; 503 naming the failed dependency, never its address."""
    engine = request.app.state.services.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as problem:  # any database failure is "not healthy", not a 500 page
        # The driver's message names the host, port and user: the operator sees only its
        # kind here, the public answer only which dependency failed (SPEC).
        log.warning("healthz: database unavailable (%s)", type(problem).__name__)
        return JSONResponse({"status": "error", "database": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
