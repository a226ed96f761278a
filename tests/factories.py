"""Small builders of rows for tests; they add and flush, the test commits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count

from sqlmodel import Session

from storage.models import Beneficiary, Booklet, Place, Slot, Topic, Voucher

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
_ids = count(1)


def topic(session: Session, key: str = "email") -> Topic:
    row = session.get(Topic, key)
    if row is None:
        row = Topic(key=key, label_fr=key.title(), label_en=key.title())
        session.add(row)
        session.flush()
    return row


def place(session: Session, *, lat: float = 45.1885, lon: float = 5.7245, **extra: object) -> Place:
    n = next(_ids)
    row = Place(
        external_id=f"place-{n}",
        name=f"Espace numérique {n}",
        address=f"{n} rue des Alpes",
        postcode="38000",
        commune="Grenoble",
        insee="38185",
        latitude=lat,
        longitude=lon,
        phone="04 76 00 00 00",
        **extra,
    )
    session.add(row)
    session.flush()
    return row


def slot(
    session: Session,
    *,
    place_id: int,
    starts_at: datetime | None = None,
    capacity: int = 5,
    topic_key: str = "email",
) -> Slot:
    topic(session, topic_key)
    start = starts_at or NOW + timedelta(days=2)
    row = Slot(
        external_id=f"slot-{next(_ids)}",
        place_id=place_id,
        topic=topic_key,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=capacity,
    )
    session.add(row)
    session.flush()
    return row


def beneficiary(
    session: Session,
    *,
    vouchers: int = 5,
    phone: str | None = None,
    expires_on: date | None = None,
) -> Beneficiary:
    n = next(_ids)
    person = Beneficiary(first_name=f"Personne{n}", phone=phone, created_at=NOW)
    session.add(person)
    session.flush()
    booklet = Booklet(
        number=f"PN-T{n:04d}",
        verification_code="1234",
        beneficiary_id=person.id or 0,
        issued_at=NOW,
    )
    session.add(booklet)
    session.flush()
    for i in range(vouchers):
        session.add(
            Voucher(
                code=f"PN-T{n:04d}-{i:02d}",
                booklet_id=booklet.id or 0,
                expires_on=expires_on or date(2027, 6, 30),
                updated_at=NOW,
            )
        )
    session.flush()
    return person
