"""One transaction per staff action; refusals are audited and become HTTP errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Annotated, TypeVar

from fastapi import HTTPException, Request
from fastapi import Path as PathParam
from pydantic import Field
from sqlmodel import Session

from config import Settings
from storage.db import unit_of_work
from storage.staff import StaffIdentity, StaffRefused, actor_of, audit

__all__ = [
    "IdField",
    "MAX_ID",
    "RecordId",
    "act",
    "admin_only",
    "aware",
    "bot_username",
    "local",
    "now",
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


def settings_of(request: Request) -> Settings:
    return request.app.state.services.settings  # type: ignore[no-any-return]


def local(moment: datetime | None, settings: Settings) -> datetime | None:
    """Times without an offset are Europe/Paris (the configured zone), like the CSV imports."""
    return None if moment is None else aware(moment, settings.tz)


def aware(moment: datetime, tz: tzinfo) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


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
