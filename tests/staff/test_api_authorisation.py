"""Who may see and change a beneficiary through the staff API (storage.access): the takeover
chain an advisor of another place tried is refused at each step, admins and the advisors the
person belongs to still can, a walk-in is booked with the booklet in hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.outbox import quiet_hours
from bot.outbox.channel_providers import build_providers
from bot.outbox.dispatcher import Dispatcher
from storage.db import unit_of_work
from storage.models import AuditEntry, Beneficiary, Booking, Booklet, HelpRequest, OutboundMessage
from tests.e2e.conftest import STAFF_TOKEN, LiveApp
from tests.e2e.test_channels import _telegram_message
from tests.staff.helpers import FAST, bearer, new_staff

ADMIN = bearer(STAFF_TOKEN)
AICHA, AICHA_BOOKLET, AICHA_CODE = "+33612345678", "PN-0001", "1234"
NEW_PERSON = {
    "first_name": "Zoé",
    "phone": "06 99 88 77 66",
    "booklet_number": "PN-7777",
    "vouchers": 3,
    "expires_on": "2030-06-30",
    "verification_code": "4321",
}


def _aicha(live_app: LiveApp) -> Beneficiary:
    with unit_of_work(live_app.engine) as session:
        person = session.scalar(select(Beneficiary).where(Beneficiary.phone == AICHA))
        assert person is not None
        session.expunge(person)
        return person


def _slot_at(live_app: LiveApp, place_id: int) -> int:
    slots = live_app.client.get("/staff/slots", params={"place_id": place_id}, headers=ADMIN)
    return int(slots.json()[-1]["id"])


def _count(live_app: LiveApp, model, *where) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(live_app.engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _audited(live_app: LiveApp, action: str) -> list[str]:
    with unit_of_work(live_app.engine) as session:
        return list(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == action)))


def test_the_takeover_chain_is_refused_to_an_advisor_of_another_place(live_app: LiveApp) -> None:
    advisor_id, token = new_staff(live_app.engine, "Nadia", places=[1])
    advisor, client, before = bearer(token), live_app.client, _aicha(live_app)
    person = before.id
    with unit_of_work(live_app.engine) as session:
        help_request = HelpRequest(
            beneficiary_id=person,
            channel="sms",
            address=AICHA,
            text="Mon code ?",
            created_at=datetime.now(UTC),
        )
        session.add(help_request)
        session.commit()
        help_id = help_request.id
    # 1. book her on his own slot, to become "her" advisor
    booked = client.post(
        f"/staff/slots/{_slot_at(live_app, 1)}/bookings",
        headers=advisor,
        json={"beneficiary_id": person},
    )
    # 2. open her file, 3. change her phone, 4. mint a deep link for an attacker's chat
    opened = client.get(f"/staff/beneficiaries/{person}", headers=advisor)
    moved = client.put(
        f"/staff/beneficiaries/{person}/phone", headers=advisor, json={"phone": "0699999999"}
    )
    linked = client.post(f"/staff/beneficiaries/{person}/telegram-link", headers=advisor)
    nobody = client.get("/staff/beneficiaries/999999", headers=advisor)
    steps = [booked, opened, moved, linked]
    assert [r.status_code for r in steps] == [404] * 4, [r.text for r in steps]
    assert {r.json()["detail"] for r in steps} == {f"no beneficiary {person}"}
    assert nobody.json()["detail"] == "no beneficiary 999999"  # the same answer as nobody
    # 5. her help message is not listed to him, nor can he answer it
    listed = client.get("/staff/help-requests", headers=advisor).json()
    assert all(row["beneficiary_id"] != person for row in listed)
    answered = client.post(
        f"/staff/help-requests/{help_id}/answer", headers=advisor, json={"text": "Envoyez-le"}
    )
    assert answered.status_code == 404
    assert _count(live_app, Booking, Booking.beneficiary_id == person) == 0
    after = _aicha(live_app)
    assert (after.phone, after.telegram_link_token) == (AICHA, None)
    assert _audited(live_app, "refused.not_authorised") == [f"staff:{advisor_id}:Nadia"] * 5
    # the same steps by an admin go through
    answers = [
        client.post(
            f"/staff/slots/{_slot_at(live_app, 2)}/bookings",
            headers=ADMIN,
            json={"beneficiary_id": person},
        ),
        client.get(f"/staff/beneficiaries/{person}", headers=ADMIN),
        client.put(
            f"/staff/beneficiaries/{person}/phone", headers=ADMIN, json={"phone": "0699999999"}
        ),
        client.post(f"/staff/beneficiaries/{person}/telegram-link", headers=ADMIN),
    ]
    assert [r.status_code for r in answers] == [201, 200, 200, 200], [r.text for r in answers]


def test_registering_an_existing_phone_or_booklet_is_a_conflict_never_a_merge(
    live_app: LiveApp,
) -> None:
    _, token = new_staff(live_app.engine, "Nadia", places=[1])
    client, before = live_app.client, _aicha(live_app)
    taken_phone = {**NEW_PERSON, "first_name": "Mallory", "phone": "06 12 34 56 78"}
    taken_booklet = {**NEW_PERSON, "booklet_number": "pn-0001", "verification_code": "0000"}
    answers = [
        client.post("/staff/beneficiaries", headers=headers, json=body)
        for headers in (bearer(token), ADMIN)
        for body in (taken_phone, taken_booklet)
    ]
    assert [r.status_code for r in answers] == [409] * 4
    assert [r.json()["detail"] for r in answers[:2]] == [
        "phone already registered",
        "booklet number already exists: PN-0001",
    ]
    after = _aicha(live_app)
    assert (after.first_name, after.phone) == (before.first_name, before.phone) == ("Aïcha", AICHA)
    with unit_of_work(live_app.engine) as session:
        booklets = session.execute(
            select(Booklet.number, Booklet.verification_code).where(
                Booklet.beneficiary_id == before.id
            )
        ).all()
    assert [tuple(row) for row in booklets] == [(AICHA_BOOKLET, AICHA_CODE)]
    assert _count(live_app, Booklet, Booklet.number == "PN-7777") == 0


def test_an_advisor_acts_on_people_they_registered_or_who_booked_at_their_places(
    live_app: LiveApp,
) -> None:
    _, token = new_staff(live_app.engine, "Nadia", places=[1])
    _, other_token = new_staff(live_app.engine, "Paul", places=[2])
    nadia, paul, client = bearer(token), bearer(other_token), live_app.client
    zoe = client.post("/staff/beneficiaries", headers=nadia, json=NEW_PERSON).json()["id"]
    aicha = _aicha(live_app).id
    booked = client.post(  # Aïcha booked at place 1 (here by an admin; by SMS works alike)
        f"/staff/slots/{_slot_at(live_app, 1)}/bookings",
        headers=ADMIN,
        json={"beneficiary_id": aicha},
    )
    assert booked.status_code == 201
    for person in (zoe, aicha):
        assert client.get(f"/staff/beneficiaries/{person}", headers=nadia).status_code == 200
        assert client.get(f"/staff/beneficiaries/{person}", headers=paul).status_code == 404
        link = client.post(f"/staff/beneficiaries/{person}/telegram-link", headers=nadia)
        assert link.status_code == 200
    moved = client.put(
        f"/staff/beneficiaries/{zoe}/phone", headers=nadia, json={"phone": "06 99 88 77 00"}
    )
    assert moved.status_code == 200 and moved.json()["phone"] == "+33699887700"
    attended = client.post(
        f"/staff/bookings/{booked.json()['id']}/attendance", headers=nadia, json={"attended": True}
    )
    assert attended.status_code == 200 and attended.json()["status"] == "attended"


def test_a_walk_in_is_booked_with_the_booklet_number_and_code_only(live_app: LiveApp) -> None:
    _, token = new_staff(live_app.engine, "Nadia", places=[1])
    advisor, client, person = bearer(token), live_app.client, _aicha(live_app).id
    url = f"/staff/slots/{_slot_at(live_app, 1)}/bookings"
    refused = [
        client.post(url, headers=advisor, json={"booklet_number": AICHA_BOOKLET}),
        client.post(
            url,
            headers=advisor,
            json={"booklet_number": AICHA_BOOKLET, "verification_code": "9999"},
        ),
        client.post(url, headers=advisor, json={"beneficiary_id": person}),
    ]
    assert [r.status_code for r in refused] == [404, 404, 404], [r.text for r in refused]
    assert _count(live_app, Booking, Booking.beneficiary_id == person) == 0
    walk_in = client.post(
        url,
        headers=advisor,
        json={"booklet_number": "pn 0001", "verification_code": AICHA_CODE},
    )
    assert walk_in.status_code == 201, walk_in.text
    assert walk_in.json()["beneficiary_id"] == person
    # she booked at his place: from now on he may open her file
    assert client.get(f"/staff/beneficiaries/{person}", headers=advisor).status_code == 200


def test_wrong_walk_in_codes_are_limited_per_advisor(live_app: LiveApp) -> None:
    _, token = new_staff(live_app.engine, "Nadia", places=[1])
    advisor, client = bearer(token), live_app.client
    url = f"/staff/slots/{_slot_at(live_app, 1)}/bookings"
    guesses = [
        client.post(
            url,
            headers=advisor,
            json={"booklet_number": AICHA_BOOKLET, "verification_code": f"{code:04d}"},
        ).status_code
        for code in range(5)
    ]
    right = client.post(
        url, headers=advisor, json={"booklet_number": AICHA_BOOKLET, "verification_code": "1234"}
    )
    assert guesses == [404] * 5 and right.status_code == 403
    assert _count(live_app, Booking) == 0


def test_a_phone_change_tells_the_old_phone_by_sms(live_app: LiveApp) -> None:
    client, person = live_app.client, _aicha(live_app).id
    moved = client.put(
        f"/staff/beneficiaries/{person}/phone", headers=ADMIN, json={"phone": "06 99 99 99 99"}
    )
    assert moved.status_code == 200
    with unit_of_work(live_app.engine) as session:
        [notice] = session.execute(
            select(OutboundMessage.channel, OutboundMessage.beneficiary_id).where(
                OutboundMessage.address == AICHA
            )
        ).all()
    assert tuple(notice) == ("sms", person)
    when = quiet_hours.next_allowed(datetime.now(UTC) + timedelta(seconds=1), live_app.settings)
    dispatcher = Dispatcher(
        live_app.engine, build_providers(live_app.settings), live_app.settings, config=FAST
    )
    asyncio.run(dispatcher.dispatch_due(when))
    [sms] = live_app.twilio.sent
    assert sms["To"] == AICHA and "numéro de téléphone a été changé" in sms["Body"]
    assert len(sms["Body"]) <= 160


def test_a_deep_link_minted_by_a_refused_advisor_links_no_chat(live_app: LiveApp) -> None:
    """The end of the chain: with the link refused, the attacker's chat has no token to open."""
    _, token = new_staff(live_app.engine, "Nadia", places=[1])
    person = _aicha(live_app).id
    refused = live_app.client.post(
        f"/staff/beneficiaries/{person}/telegram-link", headers=bearer(token)
    )
    assert refused.status_code == 404 and "link" not in refused.json()
    live_app.telegram_update(_telegram_message(70, 6666, text="/start " + "0" * 32))
    live_app.wait_for(lambda: live_app.telegram.calls("sendMessage"))
    assert _aicha(live_app).telegram_chat_id is None
