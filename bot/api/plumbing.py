"""One transaction per staff action; refusals are audited and become HTTP errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Request
from fastapi import Path as PathParam
from pydantic import Field
from sqlmodel import Session

from bot.staff import Command
from config import Settings
from storage.db import unit_of_work
from storage.staff import StaffIdentity, StaffRefused, actor_of, audit
from storage.types import MAX_YEAR, MIN_YEAR, in_service_years

__all__ = [
    "IdField",
    "MAX_ID",
    "RecordId",
    "act",
    "admin_only",
    "aware",
    "bot_username",
    "handle",
    "local",
    "now",
    "refuse_nul",
    "settings_of",
]

T = TypeVar("T")
# A person staff may not act on is answered like a person who does not exist (storage.access).
_STATUS = {
    "forbidden": 403,
    "not_found": 404,
    "not_authorised": 404,
    "wrong_code": 404,
    "invalid": 422,
    "conflict": 409,
}


def now() -> datetime:
    return datetime.now(UTC)


def act(request: Request, staff: StaffIdentity, work: Callable[[Session], T]) -> T:
    """Run `work` in one unit of work; a StaffRefused is audited, then answered 403/404/…"""
    engine = request.app.state.services.engine
    try:
        with unit_of_work(engine) as session:
            result = work(session)
            session.commit()
            return result
    except StaffRefused as refused:
        with unit_of_work(engine) as session:
            audit(
                session,
                actor=actor_of(staff),
                action=f"refused.{refused.kind}",
                record=f"{request.method} {request.url.path}",
                detail=refused.message,
                now=now(),
            )
            session.commit()
        raise HTTPException(_STATUS[refused.kind], refused.message) from None


def handle(request: Request, staff: StaffIdentity, command: Command[T]) -> T:
    """Run one staff command (`bot.staff`); a refusal, audited by the service, is answered
    with its HTTP status (403, 404, 409, 422)."""
    service = request.app.state.services.staff
    try:
        return service.handle(staff, command, origin=f"{request.method} {request.url.path}")
    except StaffRefused as refused:
        raise HTTPException(_STATUS[refused.kind], refused.message) from None


def settings_of(request: Request) -> Settings:
    return request.app.state.services.settings  # type: ignore[no-any-return]


def local(moment: datetime | None, settings: Settings) -> datetime | None:
    """Times without an offset are Europe/Paris (the configured zone), like the CSV imports."""
    return None if moment is None else aware(moment, settings.tz)


def aware(moment: datetime, tz: tzinfo) -> datetime:
    """Every time the API is given passes here: out of 2000-2100 it is a 422, not an overflow."""
    if not in_service_years(moment):
        raise HTTPException(422, f"times must be between {MIN_YEAR} and {MAX_YEAR}")
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


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


def bot_username(request: Request) -> str:
    application = request.app.state.services.telegram
    try:
        return str(application.bot.username)
    except Exception:  # not started or no token: the usual name
        return "passnum_bot"


def admin_only(staff: StaffIdentity, what: str) -> None:
    if not staff.is_admin:
        raise StaffRefused("forbidden", f"only an admin may {what}")


MAX_ID = 2**31 - 1  # the largest id the databases' INTEGER columns hold
RecordId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="record id")]
"""A path id: out-of-range numbers are a 422, never a database overflow."""
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
