"""STOP is honoured before any flood limit, kept per address (known or not), and registration
honours a STOP said before it: over signed Twilio webhooks and the staff API on loopback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlmodel import Session

from storage.abuse import InboundLimits
from storage.broadcast_segments import parse_segment, recipients
from storage.models import AddressOptOut, Beneficiary
from tests.e2e.conftest import STAFF_TOKEN, LiveApp

DEMO_PHONE = "+33612345678"  # booklet PN-0001, beneficiary #1


def _replies(answer) -> int:  # type: ignore[no-untyped-def]
    assert answer.status_code == 200
    return int(answer.text.count("<Message>"))


def _state(app: LiveApp, phone: str) -> tuple[bool | None, bool, bool]:
    """(beneficiary opted out, address opted out, in the `all` broadcast segment)."""
    with Session(app.engine) as session:
        person = session.scalar(select(Beneficiary).where(Beneficiary.phone == phone))
        everyone = recipients(
            session, segment=parse_segment("all"), language=None, now=datetime.now(UTC)
        )
        return (
            person.opted_out if person else None,
            session.get(AddressOptOut, phone) is not None,
            any(address == phone for _, _, address in everyone),
        )


@pytest.mark.parametrize("word", ["STOP", "arrêt"])
def test_stop_over_the_flood_limit_still_opts_out(live_app: LiveApp, word: str) -> None:
    live_app.services.assistant.limits = InboundLimits(per_address=2)
    assert _state(live_app, DEMO_PHONE) == (False, False, True)
    for _ in range(2):
        assert _replies(live_app.sms("MENU", sender=DEMO_PHONE)) > 0
    assert _replies(live_app.sms(word, sender=DEMO_PHONE)) == 0  # over the limit: no answer
    assert _state(live_app, DEMO_PHONE) == (True, True, False)
    assert _replies(live_app.sms("START", sender=DEMO_PHONE)) == 0  # START over the limit too
    assert _state(live_app, DEMO_PHONE) == (False, False, True)


def test_twilio_opt_out_type_is_honoured_whatever_the_words(live_app: LiveApp) -> None:
    # Twilio recognised "CANCEL" as an opt-out keyword; the flows would read it as "cancel".
    answer = live_app.sms("CANCEL", sender=DEMO_PHONE, OptOutType="STOP")
    assert _replies(answer) == 0  # Twilio answered the person itself
    assert _state(live_app, DEMO_PHONE) == (True, True, False)
    assert _replies(live_app.sms("MENU", sender=DEMO_PHONE)) == 0  # silence until START
    live_app.sms("YES", sender=DEMO_PHONE, OptOutType="START")
    assert _state(live_app, DEMO_PHONE) == (False, False, True)
    assert _replies(live_app.sms("MENU", sender=DEMO_PHONE)) > 0


def test_a_number_that_said_stop_is_registered_opted_out(live_app: LiveApp) -> None:
    newcomer = "+33698765432"
    assert _replies(live_app.sms("STOP", sender=newcomer)) > 0
    assert _state(live_app, newcomer) == (None, True, False)
    created = live_app.client.post(
        "/staff/beneficiaries",
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
        json={
            "first_name": "Zoé",
            "phone": "06 98 76 54 32",
            "booklet_number": "PN-9001",
            "vouchers": 5,
            "expires_on": "2031-12-31",
            "verification_code": "4321",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["opted_out"] is True
    assert _state(live_app, newcomer) == (True, True, False)
    # and the conversation stays silent until START
    assert _replies(live_app.sms("MENU", sender=newcomer)) == 0
    assert _replies(live_app.sms("START", sender=newcomer)) > 0
    assert _state(live_app, newcomer) == (False, False, True)


def test_a_csv_import_honours_a_stop_said_before(live_app: LiveApp) -> None:
    from storage.db import unit_of_work
    from storage.imports import import_beneficiaries

    live_app.sms("ARRET", sender="+33698765433")
    lines = [
        "booklet_number;first_name;phone;vouchers;expires_on;verification_code",
        "PN-9002;Yann;06 98 76 54 33;5;2031-12-31;1111",
    ]
    with unit_of_work(live_app.engine) as session:
        assert not import_beneficiaries(session, lines).errors
        session.commit()
    assert _state(live_app, "+33698765433") == (True, True, False)
