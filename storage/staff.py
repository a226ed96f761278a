"""Staff identities, hashed API tokens, the audit log and the help inbox queries."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.models import AuditEntry, Booking, HelpRequest, Slot, Staff

__all__ = ["StaffIdentity", "audit", "authenticate_token", "create_staff", "hash_token",
           "open_help_requests"]


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


def hash_token(token: str) -> str:
    """Tokens are random and long, so one SHA-256 is enough (no password stretching needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_staff(session: Session, *, name: str, role: str, place_ids: list[int],
                 now: datetime) -> tuple[Staff, str]:
    """A new staff member and their API token (shown once, stored hashed)."""
    if role not in {"admin", "advisor"}:
        raise ValueError("role must be admin or advisor")
    token = secrets.token_urlsafe(32)
    member = Staff(name=name, role=role, token_hash=hash_token(token),
                   place_ids=",".join(str(p) for p in place_ids), created_at=now)
    session.add(member)
    session.flush()
    return member, token


def _identity(member: Staff) -> StaffIdentity:
    places = tuple(int(p) for p in member.place_ids.split(",") if p.strip())
    return StaffIdentity(id=member.id, name=member.name, role=member.role, place_ids=places)


def authenticate_token(session: Session, *, token: str) -> StaffIdentity | None:
    member = session.scalar(select(Staff).where(Staff.token_hash == hash_token(token)))
    return _identity(member) if member is not None else None


def audit(session: Session, *, actor: str, action: str, record: str | None, now: datetime,
          detail: str | None = None) -> None:
    session.add(AuditEntry(actor=actor, action=action, record=record, detail=detail, at=now))
    session.flush()


def open_help_requests(session: Session, *, staff: StaffIdentity) -> list[HelpRequest]:
    """Unanswered help messages; an advisor sees those of people booked at their places."""
    query = select(HelpRequest).where(HelpRequest.answered_at.is_(None))  # type: ignore[union-attr]
    if not staff.is_admin:
        booked_here = (
            select(Booking.beneficiary_id)
            .join(Slot, Slot.id == Booking.slot_id)  # type: ignore[arg-type]
            .where(Slot.place_id.in_(staff.place_ids))  # type: ignore[attr-defined]
        )
        query = query.where(HelpRequest.beneficiary_id.in_(booked_here))  # type: ignore[union-attr]
    return list(session.scalars(query.order_by(HelpRequest.created_at)).all())  # type: ignore[arg-type]
