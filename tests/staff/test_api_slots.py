"""Slots, bookings and attendance through the staff API; advisors stay on their places."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from bot.outbox import quiet_hours
from bot.outbox.channel_providers import build_providers
from bot.outbox.dispatcher import Dispatcher
from storage.db import unit_of_work
from storage.models import AuditEntry, Beneficiary, Booking, Slot, Voucher
from tests.e2e.conftest import STAFF_TOKEN, LiveApp
from tests.staff.helpers import FAST, bearer, new_staff

ADMIN = bearer(STAFF_TOKEN)
AICHA = "+33612345678"


def _last_slot(live_app: LiveApp, place_id: int) -> int:
    with unit_of_work(live_app.engine) as session:
        return (
            session.scalars(
                select(Slot.id).where(Slot.place_id == place_id).order_by(Slot.starts_at.desc())
            ).first()
            or 0
        )


def _aicha(live_app: LiveApp) -> int:
    with unit_of_work(live_app.engine) as session:
        return session.scalar(select(Beneficiary.id).where(Beneficiary.phone == AICHA)) or 0


def test_advisor_cancels_a_slot_and_the_booked_person_gets_an_sms_and_the_voucher(
    live_app: LiveApp,
) -> None:
    _, token = new_staff(live_app.engine, "Nadia", places=[1])
    advisor, slot_id, person = bearer(token), _last_slot(live_app, 1), _aicha(live_app)
    booked = live_app.client.post(  # Aïcha at the desk, her booklet in hand
        f"/staff/slots/{slot_id}/bookings",
        headers=advisor,
        json={"beneficiary_id": person, "booklet_number": "PN-0001", "verification_code": "1234"},
    )
    assert booked.status_code == 201, booked.text
    cancelled = live_app.client.post(f"/staff/slots/{slot_id}/cancel", headers=advisor).json()
    assert cancelled["notified"] == 1 and cancelled["slot"]["cancelled"]
    assert cancelled["slot"]["booked"] == 0
    with unit_of_work(live_app.engine) as session:
        booking = session.get(Booking, booked.json()["id"])
        assert booking is not None and booking.status == "cancelled"
        assert session.get(Voucher, booking.voucher_id).status == "available"  # type: ignore[union-attr]
    when = quiet_hours.next_allowed(datetime.now(UTC), live_app.settings)
    dispatcher = Dispatcher(
        live_app.engine, build_providers(live_app.settings), live_app.settings, config=FAST
    )
    assert asyncio.run(dispatcher.dispatch_due(when)).sent == 1
    [sms] = live_app.twilio.sent
    assert sms["To"] == AICHA and "annulé" in sms["Body"] and "rendu" in sms["Body"]


def test_an_advisor_cannot_see_or_act_on_another_place(live_app: LiveApp) -> None:
    _, token = new_staff(live_app.engine, "Nadia", places=[1])
    advisor, theirs, client = bearer(token), _last_slot(live_app, 2), live_app.client
    refusals = [
        client.get(f"/staff/slots/{theirs}/bookings", headers=advisor),
        client.post(f"/staff/slots/{theirs}/cancel", headers=advisor),
        client.patch(f"/staff/slots/{theirs}", headers=advisor, json={"capacity": 9}),
        client.get("/staff/slots", params={"place_id": 2}, headers=advisor),
        client.post(
            "/staff/broadcasts/preview",
            headers=advisor,
            json={"segment": "place:2", "message": "Bonjour"},
        ),
        client.post(
            "/staff/broadcasts/preview",
            headers=advisor,
            json={"segment": f"slot:{theirs}", "message": "Bonjour"},
        ),
        client.post(
            "/staff/broadcasts/preview",
            headers=advisor,
            json={"segment": "all", "message": "Bonjour"},
        ),
    ]
    assert [r.status_code for r in refusals] == [403] * len(refusals)
    own = client.get("/staff/slots", headers=advisor).json()
    assert own and {slot["place_id"] for slot in own} == {1}
    assert (
        client.post(
            "/staff/broadcasts/preview",
            headers=advisor,
            json={"segment": "place:1", "message": "Bonjour"},
        ).status_code
        == 200
    )
    with unit_of_work(live_app.engine) as session:
        audited = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "refused.forbidden")
        ).all()
    assert len(audited) == len(refusals) and set(audited) == {f"staff:{_id(token, live_app)}:Nadia"}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _id(token: str, live_app: LiveApp) -> int:
    return int(live_app.client.get("/staff/me", headers=bearer(token)).json()["id"])


def test_attendance_redeems_and_no_show_follows_the_policy(live_app: LiveApp) -> None:
    client, person = live_app.client, _aicha(live_app)
    first, second = _last_slot(live_app, 3), _last_slot(live_app, 4)
    bookings = [
        client.post(
            f"/staff/slots/{slot}/bookings", headers=ADMIN, json={"beneficiary_id": person}
        ).json()["id"]
        for slot in (first, second)
    ]
    came = client.post(
        f"/staff/bookings/{bookings[0]}/attendance", headers=ADMIN, json={"attended": True}
    ).json()
    missed = client.post(
        f"/staff/bookings/{bookings[1]}/attendance", headers=ADMIN, json={"attended": False}
    ).json()
    assert (came["status"], missed["status"]) == ("attended", "no_show")
    with unit_of_work(live_app.engine) as session:
        vouchers = [
            session.get(Voucher, session.get(Booking, b).voucher_id).status  # type: ignore[union-attr]
            for b in bookings
        ]
    assert vouchers == ["redeemed", "available"]  # default policy: return
    again = client.post(
        f"/staff/bookings/{bookings[0]}/attendance", headers=ADMIN, json={"attended": False}
    )
    assert again.status_code == 409


def test_create_and_move_a_slot(live_app: LiveApp) -> None:
    _, token = new_staff(live_app.engine, "Nadia", places=[1])
    advisor = bearer(token)
    made = live_app.client.post(
        "/staff/slots",
        headers=advisor,
        json={
            "place_id": 1,
            "topic": "email",
            "starts_at": "2099-03-02T14:00",
            "ends_at": "2099-03-02T16:00",
            "capacity": 6,
        },
    )
    assert made.status_code == 201, made.text
    assert _utc(made.json()["starts_at"]) == datetime(2099, 3, 2, 13, 0, tzinfo=UTC)
    moved = live_app.client.patch(
        f"/staff/slots/{made.json()['id']}",
        headers=advisor,
        json={"starts_at": "2099-03-03T09:00", "capacity": 8},
    ).json()
    assert _utc(moved["ends_at"]) == datetime(2099, 3, 3, 10, 0, tzinfo=UTC)
    assert moved["capacity"] == 8
    elsewhere = live_app.client.post(
        "/staff/slots",
        headers=advisor,
        json={
            "place_id": 2,
            "topic": "email",
            "starts_at": "2099-03-02T14:00",
            "ends_at": "2099-03-02T16:00",
            "capacity": 6,
        },
    )
    assert elsewhere.status_code == 403
