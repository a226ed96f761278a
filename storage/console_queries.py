"""Read-only queries the staff console needs beside the staff actions: find people, the help
inbox's answered messages, the audit log, places and topics.

Who may see a person is decided by the one rule of `storage.access` (the same check the
staff actions make), never here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlmodel import Session

from storage.access import may_act_on
from storage.models import (
    AuditEntry,
    Beneficiary,
    Booklet,
    HelpRequest,
    Place,
    Topic,
)
from storage.phones import InvalidPhone, normalize_phone
from storage.staff import StaffIdentity

__all__ = [
    "PersonHit",
    "answered_help_requests",
    "audit_entries",
    "find_people",
    "place_names",
    "places_by_commune",
    "topic_keys",
]

SEARCH_LIMIT = 20


@dataclass(frozen=True)
class PersonHit:
    """One search result. `{"id": 1, "first_name": "Aïcha", "phone": "+33612345678",
    "booklets": "PN-0001"}`"""

    id: int
    first_name: str
    phone: str | None
    booklets: str


def find_people(session: Session, *, staff: StaffIdentity, text: str) -> list[PersonHit]:
    """People whose first name, phone or booklet number matches, among those `staff` may see."""
    text = text.strip()
    if not text:
        return []
    conditions = [
        func.lower(Beneficiary.first_name).contains(text.lower()),
        func.upper(Booklet.number).contains(text.upper()),
    ]
    with contextlib.suppress(InvalidPhone):
        conditions.append(Beneficiary.phone == normalize_phone(text))
    rows = session.execute(
        select(Beneficiary.id, Beneficiary.first_name, Beneficiary.phone, Booklet.number)
        .outerjoin(Booklet, Booklet.beneficiary_id == Beneficiary.id)
        .where(or_(*conditions), Beneficiary.erased_at.is_(None))
        .order_by(Beneficiary.first_name, Beneficiary.id)
        .limit(SEARCH_LIMIT * 5)
    ).all()
    hits: dict[int, PersonHit] = {}
    for person_id, name, phone, booklet in rows:
        if person_id in hits:
            joined = f"{hits[person_id].booklets}, {booklet}"
            hits[person_id] = PersonHit(person_id, name, phone, joined)
        elif len(hits) < SEARCH_LIMIT and _may_see(session, staff, person_id):
            hits[person_id] = PersonHit(person_id, name, phone, booklet or "")
    return list(hits.values())


def _may_see(session: Session, staff: StaffIdentity, person_id: int) -> bool:
    return may_act_on(session, staff, person_id)  # the one rule of storage.access


def answered_help_requests(
    session: Session, *, staff: StaffIdentity, limit: int = 20
) -> list[HelpRequest]:
    """The latest answered help messages, for the inbox's second part (admins: all)."""
    query = select(HelpRequest).where(HelpRequest.answered_at.is_not(None))
    if not staff.is_admin:
        query = query.where(HelpRequest.answered_by == staff.id)
    return list(session.scalars(query.order_by(HelpRequest.answered_at.desc()).limit(limit)))


def audit_entries(
    session: Session, *, before_id: int | None = None, limit: int = 100
) -> list[AuditEntry]:
    """The audit log, newest first, a page at a time (callers check who may read it)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))


def place_names(session: Session, *, staff: StaffIdentity) -> list[tuple[int, str, str]]:
    """(id, name, commune) of the places `staff` may act on, by commune then name."""
    query = select(Place.id, Place.name, Place.commune).order_by(Place.commune, Place.name)
    if not staff.is_admin:
        query = query.where(Place.id.in_(staff.place_ids))
    return [(int(i), str(n), str(c)) for i, n, c in session.execute(query).all()]


def places_by_commune(session: Session, *, place_ids: Collection[int] | None) -> list[Place]:
    """These places (None: all), by commune then name."""
    query = select(Place).order_by(Place.commune, Place.name)
    if place_ids is not None:
        query = query.where(Place.id.in_(place_ids))  # type: ignore[union-attr]  # SQLModel column typing
    return list(session.scalars(query))


def topic_keys(session: Session) -> list[tuple[str, str, str]]:
    """(key, French label, English label) of every topic."""
    rows = session.execute(select(Topic.key, Topic.label_fr, Topic.label_en).order_by(Topic.key))
    return [(str(k), str(fr), str(en)) for k, fr, en in rows.all()]
