"""Booklet codes against guessing from many numbers, and the old phone told when a booklet
moves: signed Twilio webhooks and the staff API over loopback, both databases."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from storage.models import Beneficiary, Booklet, HelpRequest, OutboundMessage
from tests.e2e.conftest import STAFF_TOKEN, LiveApp

DEMO_PHONE = "+33612345678"  # holder of PN-0001, code 1234


def _holder_phone(app: LiveApp) -> str | None:
    with Session(app.engine) as session:
        return session.scalar(select(Beneficiary.phone).where(Beneficiary.id == 1))


def _outbox_to(app: LiveApp, address: str) -> list[str]:
    with Session(app.engine) as session:
        rows = session.scalars(
            select(OutboundMessage.body).where(OutboundMessage.address == address)
        )
        return [body or "" for body in rows]


def test_ten_wrong_codes_from_ten_numbers_lock_the_booklet(live_app: LiveApp) -> None:
    for n in range(10):
        live_app.sms("PN-0001 9999", sender=f"+336555000{n:02d}")
    right = live_app.sms("PN-0001 1234", sender="+33655500099")
    assert right.status_code == 200
    assert _holder_phone(live_app) == DEMO_PHONE, "the right code is refused while locked"
    with Session(live_app.engine) as session:
        booklet = session.scalar(select(Booklet).where(Booklet.number == "PN-0001"))
        assert booklet is not None and booklet.locked_at is not None
        help_entries = session.scalars(
            select(HelpRequest.text).where(HelpRequest.beneficiary_id == 1)
        ).all()
    assert any("PN-0001" in text for text in help_entries)
    told = _outbox_to(live_app, DEMO_PHONE)
    assert len(told) == 1 and "bloqué par sécurité" in told[0]

    unlocked = live_app.client.post(
        "/staff/booklets/pn-0001/unlock", headers={"Authorization": f"Bearer {STAFF_TOKEN}"}
    )
    assert unlocked.status_code == 200, unlocked.text
    live_app.sms("PN-0001 1234", sender="+33655500098")
    assert _holder_phone(live_app) == "+33655500098"


def test_a_booklet_moving_to_another_phone_tells_the_old_one(live_app: LiveApp) -> None:
    assert _outbox_to(live_app, DEMO_PHONE) == []
    answer = live_app.sms("PN-0001 1234", sender="+33655500077")
    assert answer.status_code == 200
    assert _holder_phone(live_app) == "+33655500077"
    told = _outbox_to(live_app, DEMO_PHONE)
    assert len(told) == 1 and "autre téléphone" in told[0]
    assert _outbox_to(live_app, "+33655500077") == []  # the new phone got its answer inline


def test_a_right_code_clears_the_count(live_app: LiveApp) -> None:
    for n in range(9):
        live_app.sms("PN-0001 9999", sender=f"+336555001{n:02d}")
    live_app.sms("PN-0001 1234", sender="+33655500200")  # the holder, from a new phone
    with Session(live_app.engine) as session:
        booklet = session.scalar(select(Booklet).where(Booklet.number == "PN-0001"))
        assert booklet is not None and booklet.failed_codes == 0 and booklet.locked_at is None
