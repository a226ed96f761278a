"""A reply to a reminder is about that booking: "c ou", "je pourrai pas venir" (for a day)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.assistant import Assistant
from flows import Text
from storage.booking import reserve_seat
from storage.models import OutboundMessage, OutboundStatus
from tests import factories
from tests.factories import NOW
from tests.outbox.conftest import make_settings

PHONE = "+33612340000"


def _setup(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        place = factories.place(session)
        first = factories.slot(session, place_id=place.id or 0, starts_at=NOW + timedelta(days=3))
        later = factories.slot(session, place_id=place.id or 0, starts_at=NOW + timedelta(days=4))
        person = factories.beneficiary(session, phone=PHONE)
        reserve_seat(session, beneficiary_id=person.id or 0, slot_id=first.id or 0, now=NOW)
        booking = reserve_seat(
            session, beneficiary_id=person.id or 0, slot_id=later.id or 0, now=NOW
        )
        session.add(
            OutboundMessage(
                channel="sms",
                address=PHONE,
                beneficiary_id=person.id,
                body="Votre atelier change d'horaire",
                dedupe_key=f"slot-moved:booking:{booking.id}:x",
                status=OutboundStatus.SENT.value,
                next_attempt_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.commit()
        return booking.id or 0, person.id or 0


def _say(assistant: Assistant, text: str, hours: int) -> list[str]:
    turn = assistant.handle(
        channel="sms", address=PHONE, message=Text(text), now=NOW + timedelta(hours=hours)
    )
    return [reply.key for reply in turn.replies]


def test_a_reply_to_a_slot_change_is_about_that_booking(engine: Engine) -> None:
    booking_id, _ = _setup(engine)
    assistant = Assistant(engine, make_settings())
    assert _say(assistant, "je pourrai pas venir", 1) == ["cancel.confirm"]
    turn = assistant.handle(
        channel="sms", address=PHONE, message=Text("c ou"), now=NOW + timedelta(hours=2)
    )
    assert turn.replies[0].key == "bookings.info"
    assert turn.replies[0].params["starts_at"] == NOW + timedelta(days=4)


def test_the_context_expires_after_a_day(engine: Engine) -> None:
    _setup(engine)
    assistant = Assistant(engine, make_settings())
    assert _say(assistant, "je pourrai pas venir", 25) == ["bookings.list"]  # two bookings
