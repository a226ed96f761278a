"""What the staff API's routes share: a staff command run with its refusal answered by HTTP
status (`bot.staff.status_of`), the NUL guard, path ids."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Request
from fastapi import Path as PathParam
from pydantic import Field

from bot.staff import Command, status_of
from storage.staff import StaffIdentity, StaffRefused

__all__ = [
    "IdField",
    "MAX_ID",
    "RecordId",
    "handle",
    "refuse_nul",
]

T = TypeVar("T")


def handle(request: Request, staff: StaffIdentity, command: Command[T]) -> T:
    """Run one staff command (`bot.staff`); a refusal, audited by the service, is answered
    with its HTTP status (403, 404, 409, 422)."""
    service = request.app.state.services.staff
    try:
        return service.handle(staff, command, origin=f"{request.method} {request.url.path}")
    except StaffRefused as refused:
        raise HTTPException(status_of(refused), refused.message) from None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


async def refuse_nul(request: Request) -> None:
    """One guard for every staff route: no NUL character in the path, the query or a JSON
    string (PostgreSQL refuses NUL in text, which would be a 500)."""
    if "\x00" in request.url.path or _has_nul(list(request.query_params.multi_items())):
        raise HTTPException(422, "NUL characters are not allowed")
    body = await request.body()  # FastAPI has read it already: this is the cached copy
    if b"\x00" in body:
        raise HTTPException(422, "NUL characters are not allowed")
    if body and "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(body)
        except ValueError:
            return  # FastAPI answers malformed JSON with its own 422
        if _has_nul(data):
            raise HTTPException(422, "NUL characters are not allowed")


MAX_ID = 2**31 - 1  # the largest id the databases' INTEGER columns hold
RecordId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="record id")]
"""A path id: out-of-range numbers are a 422, never a database overflow."""
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
