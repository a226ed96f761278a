"""Staff API tokens: checked (unknown, expired or revoked), revoked and issued anew.

Why: a token that never ends keeps working on a lost laptop or after someone leaves. A token
lasts PASSNUM_STAFF_TOKEN_TTL_DAYS from its issue (`Staff.token_issued_at`); revoking a member
refuses their token and unlinks their Telegram chat at once (the staff handlers of
`bot.staff.members` decide who may, and audit it). Only the hash of a token is stored,
so a revoked or expired one is still recognised and refused with a message that says why.
The bootstrap token (PASSNUM_STAFF_TOKEN) lives in the environment: `staff_for_token` checks it
first (the one check of the staff API and the console's sign-in), and it is rotated by changing
the variable (docs/security.md).
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import Staff
from storage.staff import (
    BOOTSTRAP_ADMIN,
    StaffIdentity,
    StaffRefused,
    fresh_token,
    hash_token,
    identity_of,
)

__all__ = [
    "TokenRefused",
    "check_token",
    "find_member",
    "new_token",
    "revoke_member",
    "staff_for_token",
]


class TokenRefused(Exception):
    """A bearer token that does not open the API: `reason` is unknown, expired or revoked;
    `member` is whose token it is, when known (for the audit log)."""

    def __init__(self, reason: str, message: str, member: StaffIdentity | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.member = member


def staff_for_token(
    session: Session, *, token: str, bootstrap_token: str | None, now: datetime, ttl: timedelta
) -> StaffIdentity:
    """Who a token opens the staff API (and the console) to: the bootstrap admin, else the
    member whose token it is (`check_token`); TokenRefused when missing, unknown, expired or
    revoked."""
    if bootstrap_token and token and hmac.compare_digest(token.encode(), bootstrap_token.encode()):
        return BOOTSTRAP_ADMIN
    if not token:
        raise TokenRefused("missing", "a valid staff bearer token is required")
    return check_token(session, token=token, now=now, ttl=ttl)


def check_token(session: Session, *, token: str, now: datetime, ttl: timedelta) -> StaffIdentity:
    """The staff member behind a token that is known, not revoked and younger than `ttl`."""
    member = session.scalar(select(Staff).where(Staff.token_hash == hash_token(token)))
    if member is None:
        raise TokenRefused("unknown", "a valid staff bearer token is required")
    if member.revoked_at is not None:
        raise TokenRefused(
            "revoked",
            f"this staff token was revoked on {member.revoked_at:%Y-%m-%d}: ask an admin",
            identity_of(member),
        )
    if member.token_issued_at + ttl <= now:
        ended = member.token_issued_at + ttl
        raise TokenRefused(
            "expired",
            f"this staff token expired on {ended:%Y-%m-%d} (tokens last {ttl.days} days): "
            "ask an admin for a new one",
            identity_of(member),
        )
    return identity_of(member)


def find_member(session: Session, *, token_or_name: str) -> Staff:
    """The member holding this token, else the one of this name; StaffRefused when none or
    when the name is not unique."""
    by_token = session.scalar(select(Staff).where(Staff.token_hash == hash_token(token_or_name)))
    if by_token is not None:
        return by_token
    named = session.scalars(
        select(Staff).where(func.lower(Staff.name) == token_or_name.strip().lower())
    ).all()
    if not named:
        raise StaffRefused("not_found", "no staff member has this token or name")
    if len(named) > 1:
        ids = ", ".join(str(m.id) for m in named)
        raise StaffRefused(
            "conflict", f"several staff members are named {token_or_name!r} (ids {ids})"
        )
    return named[0]


def revoke_member(session: Session, *, member: Staff, now: datetime) -> Staff:
    """Refuse the member's token from now on and unlink their Telegram chat."""
    if member.revoked_at is not None:
        raise StaffRefused("conflict", f"staff member {member.id} is already revoked")
    member.revoked_at = now
    member.telegram_chat_id = None
    session.add(member)
    session.flush()
    return member


def new_token(session: Session, *, member: Staff, now: datetime) -> str:
    """A fresh token for the member (the old one stops working; a revoked member is back);
    shown once, stored hashed."""
    token = fresh_token()
    member.token_hash = hash_token(token)
    member.token_issued_at = now
    member.revoked_at = None
    session.add(member)
    session.flush()
    return token
