"""GDPR export and erase, and retention of message texts, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from storage.booking import reserve_seat
from storage.conversations import record_inbound, save_state
from storage.db import unit_of_work
from storage.models import Beneficiary, Booking, Conversation, InboundMessage, OutboundMessage
from storage.privacy import ERASED_NAME, erase_beneficiary, export_beneficiary, purge_inbound_texts
from tests import factories
from tests.factories import NOW

PHONE = "+33611223344"


def _person_with_history(session: Session) -> int:
    place = factories.place(session)
    slot_id = factories.slot(session, place_id=place.id).id
    person = factories.beneficiary(session, phone=PHONE)
    reserve_seat(session, beneficiary_id=person.id, slot_id=slot_id, now=NOW)
    record_inbound(
        session, channel="sms", provider_id="SM1", address=PHONE, body="je veux un atelier", now=NOW
    )
    save_state(session, address=PHONE, state={"step": "menu"}, now=NOW)
    session.add(
        OutboundMessage(
            channel="sms",
            address=PHONE,
            beneficiary_id=person.id,
            body="Rappel: demain 14h",
            next_attempt_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    session.commit()
    return int(person.id)


def test_export_holds_everything_about_the_person(engine) -> None:
    with unit_of_work(engine) as session:
        person_id = _person_with_history(session)
        exported = export_beneficiary(session, beneficiary_id=person_id)
    text = json.dumps(exported)  # JSON-ready
    assert exported["beneficiary"]["phone"] == PHONE
    assert len(exported["bookings"]) == 1
    assert len(exported["vouchers"]) == 5
    assert "je veux un atelier" in text
    assert "Rappel: demain 14h" in text
    assert exported["conversations"][0]["address"] == PHONE


def test_erase_removes_personal_data_and_keeps_statistics(engine) -> None:
    with unit_of_work(engine) as session:
        person_id = _person_with_history(session)
        erase_beneficiary(session, beneficiary_id=person_id, actor="staff:1", now=NOW)
        session.commit()
    with Session(engine) as session:
        person = session.get(Beneficiary, person_id)
        assert (person.first_name, person.phone, person.erased_at is not None) == (
            ERASED_NAME,
            None,
            True,
        )
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0
        assert session.scalar(select(InboundMessage.body)) is None
        assert session.scalar(select(OutboundMessage.address)) == f"erased:{person_id}"
        exported = json.dumps(export_beneficiary(session, beneficiary_id=person_id))
    assert PHONE not in exported
    assert "je veux un atelier" not in exported


def test_retention_forgets_old_texts_only(engine) -> None:
    with unit_of_work(engine) as session:
        record_inbound(
            session,
            channel="sms",
            provider_id="old",
            address=PHONE,
            body="ancien",
            now=NOW - timedelta(days=200),
        )
        record_inbound(
            session,
            channel="sms",
            provider_id="new",
            address=PHONE,
            body="récent",
            now=NOW - timedelta(days=2),
        )
        purged = purge_inbound_texts(session, before=NOW - timedelta(days=180))
        session.commit()
        bodies = sorted(b or "-" for b in session.scalars(select(InboundMessage.body)).all())
    assert purged == 1
    assert bodies == ["-", "récent"]
