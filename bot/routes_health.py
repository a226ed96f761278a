"""GET /healthz: the app answers and so does the database."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    engine = request.app.state.services.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as problem:  # any database failure is "not healthy", not a 500 page
        return JSONResponse({"status": "error", "database": str(problem)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
