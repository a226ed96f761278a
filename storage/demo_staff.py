"""The demo coordinator: an admin staff member of the demo data set, so that a newcomer can
sign in to the console right after `passnum demo` (which prints the token).

Each run gives the demo coordinator a new token (only its hash is stored, so the old one
cannot be shown again); sessions opened with the previous token end. Never run the demo on a
production database: this account is an admin.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.models import Staff
from storage.staff import audit, create_staff
from storage.staff_tokens import new_token

__all__ = ["DEMO_ADMIN_NAME", "demo_admin_token"]

DEMO_ADMIN_NAME = "Coordination (démo)"


def demo_admin_token(session: Session, *, now: datetime) -> str:
    """Create the demo coordinator or give them a fresh token; returns the token."""
    member = session.scalar(
        select(Staff).where(Staff.name == DEMO_ADMIN_NAME, Staff.role == "admin")
    )
    if member is None:
        member, token = create_staff(
            session, name=DEMO_ADMIN_NAME, role="admin", place_ids=[], now=now
        )
        audit(session, actor="cli", action="staff.demo_token", record=f"staff:{member.id}", now=now)
    else:
        token = new_token(session, member=member, now=now)
        audit(session, actor="cli", action="staff.new_token", record=f"staff:{member.id}", now=now)
    return token
