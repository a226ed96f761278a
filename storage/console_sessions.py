"""Staff console sessions: opened with a staff token, kept server-side, ended by sign-out,
expiry, or when the staff token they were opened with is no longer the member's.

The cookie carries a random secret; only its SHA-256 is stored, so a copy of the database
gives no usable cookie. Each session has its own CSRF token for the console's forms.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import Session

from storage.models import ConsoleSession, Staff
from storage.staff import BOOTSTRAP_ADMIN, StaffIdentity, get_staff, hash_token

__all__ = [
    "OpenedSession",
    "SESSION_LIFETIME",
    "close_session",
    "find_session",
    "open_session",
    "open_session_on",
]

SESSION_LIFETIME = timedelta(hours=10)
"""A working day: a console left signed in overnight asks for the token again."""


@dataclass(frozen=True)
class OpenedSession:
    """A live session: who is signed in and the CSRF token of their forms."""

    staff: StaffIdentity
    csrf: str
    expires_at: datetime


def open_session(
    session: Session, *, staff: StaffIdentity, token: str, now: datetime
) -> tuple[str, OpenedSession]:
    """A new session for a staff member who just proved `token`; returns the cookie secret."""
    return open_session_on(session, staff=staff, token_hash=hash_token(token), now=now)


def open_session_on(
    session: Session, *, staff: StaffIdentity, token_hash: str, now: datetime
) -> tuple[str, OpenedSession]:
    """A new session standing on the member's current token (`token_hash`): it ends when that
    token is replaced or revoked. For a sign-in that proved something else (a Telegram link)."""
    secret = secrets.token_urlsafe(32)
    row = ConsoleSession(
        id_hash=hash_token(secret),
        staff_id=staff.id,
        token_hash=token_hash,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    session.flush()
    return secret, OpenedSession(staff, row.csrf, row.expires_at)


def find_session(
    session: Session, *, secret: str, now: datetime, bootstrap_token: str | None
) -> OpenedSession | None:
    """The live session behind a cookie secret, or None (unknown, expired, token changed)."""
    row = session.get(ConsoleSession, hash_token(secret))
    if row is None or row.expires_at <= now:
        return None
    if row.staff_id is None:
        if not bootstrap_token or hash_token(bootstrap_token) != row.token_hash:
            return None
        return OpenedSession(BOOTSTRAP_ADMIN, row.csrf, row.expires_at)
    holder = session.scalar(select(Staff.id).where(Staff.token_hash == row.token_hash))
    found = get_staff(session, staff_id=row.staff_id) if holder == row.staff_id else None
    return None if found is None else OpenedSession(found, row.csrf, row.expires_at)


def close_session(session: Session, *, secret: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == hash_token(secret)))
