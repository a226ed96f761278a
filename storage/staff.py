"""Staff identities, hashed API tokens, the audit log and the help inbox queries."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from storage.models import AuditEntry, HelpRequest, Staff

__all__ = [
    "BOOTSTRAP_ADMIN",
    "CLI_ADMIN",
    "StaffIdentity",
    "StaffRefused",
    "actor_of",
    "audit",
    "create_staff",
    "fresh_token",
    "get_staff",
    "hash_token",
    "identity_of",
    "issue_staff_link",
    "link_staff_chat",
    "open_help_requests",
    "require_place",
    "staff_for_chat",
]

LINK_PREFIX = "staff-"
LINK_VALID = timedelta(days=7)


@dataclass(frozen=True)
class StaffIdentity:
    """Who is acting: an admin sees everything, an advisor only their places."""

    id: int | None
    name: str
    role: str
    place_ids: tuple[int, ...]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can_see_place(self, place_id: int) -> bool:
        return self.is_admin or place_id in self.place_ids


CLI_ADMIN = StaffIdentity(id=None, name="cli", role="admin", place_ids=())
"""Whoever runs `passnum` on the server: they hold the database, so they act as an admin."""
BOOTSTRAP_ADMIN = StaffIdentity(id=None, name="bootstrap-admin", role="admin", place_ids=())
"""Whoever holds the bootstrap token (PASSNUM_STAFF_TOKEN, in the environment)."""


class StaffRefused(Exception):
    """A staff action that cannot be done: `kind` is forbidden, not_found, not_authorised (a
    person the staff member may not act on: answered like not_found), wrong_code (a walk-in's
    booklet code), invalid or conflict; the message says why in one line."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def actor_of(staff: StaffIdentity) -> str:
    """How the audit log names someone: `staff:3:Nadia`, or `bootstrap-admin` / `cli`."""
    return f"staff:{staff.id}:{staff.name}" if staff.id is not None else staff.name


def require_place(staff: StaffIdentity, place_id: int, what: str) -> None:
    """Advisors act on their own places only."""
    if not staff.can_see_place(place_id):
        raise StaffRefused("forbidden", f"{what} belongs to place {place_id}, not one of yours")


def fresh_token() -> str:
    """A new staff token, URL-safe and never starting with "-", so that it can be pasted
    after a command (`passnum staff revoke TOKEN`) without being read as an option."""
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


def hash_token(token: str) -> str:
    """Tokens are random and long, so one SHA-256 is enough (no password stretching needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


MAX_RECORD_ID = 2**31 - 1  # the largest id the databases' INTEGER columns hold


def create_staff(
    session: Session,
    *,
    name: str,
    role: str,
    place_ids: list[int],
    now: datetime,
    by: StaffIdentity | None = None,
) -> tuple[Staff, str]:
    """A new staff member and their API token (shown once, stored hashed). `by` is who creates
    them (None or an id-less identity: the operator), kept for the two-person rule."""
    if role not in {"admin", "advisor"}:
        raise ValueError("role must be admin or advisor")
    if any(not 1 <= place <= MAX_RECORD_ID for place in place_ids):
        raise StaffRefused("invalid", f"place ids are between 1 and {MAX_RECORD_ID}")
    token = fresh_token()
    member = Staff(
        name=name,
        role=role,
        token_hash=hash_token(token),
        place_ids=",".join(str(p) for p in place_ids),
        created_at=now,
        created_by=by.id if by is not None else None,
        token_issued_at=now,
    )
    session.add(member)
    session.flush()
    return member, token


def identity_of(member: Staff) -> StaffIdentity:
    places = tuple(int(p) for p in member.place_ids.split(",") if p.strip())
    return StaffIdentity(id=member.id, name=member.name, role=member.role, place_ids=places)


def get_staff(session: Session, *, staff_id: int) -> StaffIdentity | None:
    member = session.get(Staff, staff_id)
    return identity_of(member) if member is not None else None


def staff_for_chat(session: Session, *, chat_id: int) -> StaffIdentity | None:
    """The staff member whose Telegram chat this is, if any (a revoked member is no one)."""
    member = session.scalar(
        select(Staff).where(Staff.telegram_chat_id == chat_id, Staff.revoked_at.is_(None))  # type: ignore[union-attr]
    )
    return identity_of(member) if member is not None else None


def issue_staff_link(session: Session, *, staff_id: int, by: StaffIdentity, now: datetime) -> str:
    """A one-time `staff-…` start token linking a Telegram chat to a staff member. Only its
    hash is kept, in the audit entry of the issue; the entry of its use makes it spent."""
    if session.get(Staff, staff_id) is None:
        raise StaffRefused("not_found", f"no staff member {staff_id}")
    token = LINK_PREFIX + secrets.token_hex(16)
    audit(
        session,
        actor=actor_of(by),
        action="staff.telegram_link_issued",
        record=f"staff:{staff_id}",
        detail=_link_detail(token),
        now=now,
    )
    return token


def _link_detail(token: str) -> str:
    return "link:" + hash_token(token)


def link_staff_chat(
    session: Session, *, token: str, chat_id: int, now: datetime
) -> StaffIdentity | None:
    """Use a link token: the chat becomes the staff member's; None if unknown, used or old."""
    detail = _link_detail(token)
    issued = session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "staff.telegram_link_issued",
            AuditEntry.detail == detail,
            AuditEntry.at >= now - LINK_VALID,
        )
    )
    spent = session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == "staff.telegram_linked", AuditEntry.detail == detail
        )
    )
    if issued is None or spent is not None or issued.record is None:
        return None
    member = session.get(Staff, int(issued.record.split(":")[1]))
    if member is None or member.revoked_at is not None:
        return None
    session.execute(
        update(Staff).where(Staff.telegram_chat_id == chat_id).values(telegram_chat_id=None)
    )
    member.telegram_chat_id = chat_id
    identity = identity_of(member)
    audit(
        session,
        actor=actor_of(identity),
        action="staff.telegram_linked",
        record=f"staff:{member.id}",
        detail=detail,
        now=now,
    )
    return identity


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    record: str | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    session.add(AuditEntry(actor=actor, action=action, record=record, detail=detail, at=now))
    session.flush()


def open_help_requests(session: Session, *, staff: StaffIdentity) -> list[HelpRequest]:
    """Unanswered help messages; an advisor sees those of the people they may act on."""
    from storage.access import visible_ids  # storage.access builds on this module

    query = select(HelpRequest).where(HelpRequest.answered_at.is_(None))  # type: ignore[union-attr]
    if not staff.is_admin:
        query = query.where(HelpRequest.beneficiary_id.in_(visible_ids(staff)))  # type: ignore[union-attr]
    return list(session.scalars(query.order_by(HelpRequest.created_at)).all())  # type: ignore[arg-type]
