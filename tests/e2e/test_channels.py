"""End to end: the real app on loopback, signed Twilio requests and Telegram updates, local fake
Twilio and Telegram servers recording what the product sends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import Beneficiary, Booking, InboundMessage, OutboundMessage
from tests.e2e.conftest import LiveApp

DEMO_PHONE = "+33612345678"  # booklet PN-0001 of the demo data


def _telegram_message(update_id: int, chat_id: int, **message: object) -> dict:
    """An update as Telegram sends it; a text starting with "/" carries its command entity."""
    sender = {"id": chat_id, "is_bot": False, "first_name": "Test"}
    text = message.get("text")
    if isinstance(text, str) and text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1764000000,
            "chat": {"id": chat_id, "type": "private"},
            "from": sender,
            **message,
        },
    }


def _count(app: LiveApp, model, *where) -> int:  # type: ignore[no-untyped-def]
    with Session(app.engine) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_health_answers_with_the_database(live_app: LiveApp) -> None:
    answer = live_app.client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok"}


def test_signed_sms_gets_a_twiml_reply(live_app: LiveApp) -> None:
    answer = live_app.sms("MENU")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    assert "<Response><Message>" in answer.text
    assert "1" in answer.text and "2" in answer.text


def test_forged_or_unsigned_sms_is_refused_and_changes_nothing(live_app: LiveApp) -> None:
    forged = live_app.sms("MENU", signature="bm90IGEgc2lnbmF0dXJl")
    unsigned = live_app.sms("MENU", signature="")
    assert forged.status_code == 403
    assert unsigned.status_code == 403
    assert _count(live_app, InboundMessage) == 0


def test_signature_is_checked_against_the_public_url_not_the_one_seen(live_app: LiveApp) -> None:
    params = {"From": DEMO_PHONE, "Body": "MENU", "MessageSid": "SM-local-url"}
    from twilio.request_validator import RequestValidator

    from tests.e2e.conftest import AUTH_TOKEN

    local_signature = RequestValidator(AUTH_TOKEN).compute_signature(
        live_app.url + "/sms/twilio", params
    )
    answer = live_app.client.post(
        "/sms/twilio", data=params, headers={"X-Twilio-Signature": local_signature}
    )
    assert answer.status_code == 403


def test_oversized_and_non_form_bodies_are_refused(live_app: LiveApp) -> None:
    huge = live_app.client.post(
        "/sms/twilio",
        content="Body=" + "a" * 100_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    as_json = live_app.client.post("/sms/twilio", json={"Body": "MENU"})
    assert huge.status_code == 413
    assert as_json.status_code == 415


def test_the_same_message_sid_twice_is_processed_once(live_app: LiveApp) -> None:
    first = live_app.sms("MENU", sid="SM-duplicate-1")
    again = live_app.sms("MENU", sid="SM-duplicate-1")
    assert first.status_code == again.status_code == 200
    assert again.text == first.text
    assert _count(live_app, InboundMessage) == 1


def test_telegram_update_with_the_secret_gets_a_keyboard_reply(live_app: LiveApp) -> None:
    answer = live_app.telegram_update(_telegram_message(1, 4242, text="/start"))
    assert answer.status_code == 200
    sent = live_app.wait_for(lambda: live_app.telegram.calls("sendMessage"))
    assert int(sent[0]["chat_id"]) == 4242
    assert "reply_markup" in sent[0]


def test_telegram_update_with_a_wrong_secret_is_refused(live_app: LiveApp) -> None:
    answer = live_app.telegram_update(_telegram_message(2, 4243, text="MENU"), secret="wrong")
    missing = live_app.client.post("/telegram/webhook", json=_telegram_message(3, 4243, text="x"))
    assert answer.status_code == missing.status_code == 403
    assert live_app.telegram.calls("sendMessage") == []


def test_a_shared_own_contact_links_the_chat(live_app: LiveApp) -> None:
    contact = {"phone_number": "33612345678", "first_name": "Test", "user_id": 5151}
    live_app.telegram_update(_telegram_message(10, 5151, contact=contact))
    linked = live_app.wait_for(
        lambda: _count(live_app, Beneficiary, Beneficiary.telegram_chat_id == 5151)
    )
    assert linked == 1


def test_someone_elses_contact_does_not_link(live_app: LiveApp) -> None:
    contact = {"phone_number": "+33612345678", "first_name": "Other", "user_id": 777}
    live_app.telegram_update(_telegram_message(11, 5252, contact=contact))
    live_app.wait_for(lambda: live_app.telegram.calls("sendMessage"))
    assert _count(live_app, Beneficiary, Beneficiary.telegram_chat_id == 5252) == 0


def test_status_callback_moves_the_outbound_message_forward(live_app: LiveApp) -> None:
    now = datetime.now(UTC)
    with Session(live_app.engine) as session:
        message = OutboundMessage(
            channel="sms",
            address=DEMO_PHONE,
            body="Rappel",
            status="sent",
            provider_id="SM-status-1",
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(message)
        session.commit()
        message_id = message.id
    params = {"MessageSid": "SM-status-1", "MessageStatus": "delivered"}
    answer = live_app.client.post(
        "/sms/twilio/status",
        data=params,
        headers={"X-Twilio-Signature": live_app.sign("/sms/twilio/status", params)},
    )
    assert answer.status_code == 204
    older = {"MessageSid": "SM-status-1", "MessageStatus": "sent"}
    live_app.client.post(
        "/sms/twilio/status",
        data=older,
        headers={"X-Twilio-Signature": live_app.sign("/sms/twilio/status", older)},
    )
    with Session(live_app.engine) as session:
        assert session.get(OutboundMessage, message_id).status == "delivered"


def test_unsigned_status_callback_is_refused(live_app: LiveApp) -> None:
    answer = live_app.client.post(
        "/sms/twilio/status", data={"MessageSid": "SM1", "MessageStatus": "delivered"}
    )
    assert answer.status_code == 403


def test_the_same_booking_sms_twice_books_once(live_app: LiveApp) -> None:
    for body in ["2", "echirolles", "1", "1"]:
        assert live_app.sms(body).status_code == 200
    first = live_app.sms("oui", sid="SM-book-once")
    again = live_app.sms("oui", sid="SM-book-once")
    assert first.status_code == again.status_code == 200
    assert again.text == first.text
    assert _count(live_app, Booking) == 1


def test_a_shared_location_returns_nearby_slots(live_app: LiveApp) -> None:
    contact = {"phone_number": "+33612345678", "first_name": "Test", "user_id": 6161}
    live_app.telegram_update(_telegram_message(20, 6161, contact=contact))
    live_app.wait_for(lambda: live_app.telegram.calls("sendMessage"))
    live_app.telegram_update(_telegram_message(21, 6161, text="2"))
    asked = live_app.wait_for(lambda: live_app.telegram.calls("sendMessage")[1:])
    assert "request_location" in str(asked[0]["reply_markup"])
    # Échirolles town hall, roughly
    live_app.telegram_update(
        _telegram_message(22, 6161, location={"latitude": 45.1435, "longitude": 5.7175})
    )
    slots = live_app.wait_for(lambda: live_app.telegram.calls("sendMessage")[2:])
    assert "km" in slots[0]["text"]  # no topic question: the nearest sessions at once
    assert "Échirolles" in slots[0]["text"] or "Cèdres" in slots[0]["text"]


def test_every_route_refuses_a_huge_body(live_app: LiveApp) -> None:
    from tests.e2e.conftest import STAFF_TOKEN

    answer = live_app.client.post(
        "/staff/broadcasts/preview",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Authorization": f"Bearer {STAFF_TOKEN}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 413


def test_a_user_who_blocked_the_bot_is_marked_unreachable(live_app: LiveApp) -> None:
    contact = {"phone_number": "+33612345678", "first_name": "Test", "user_id": 7171}
    live_app.telegram_update(_telegram_message(30, 7171, contact=contact))
    live_app.wait_for(lambda: _count(live_app, Beneficiary, Beneficiary.telegram_chat_id == 7171))
    live_app.telegram.blocked_chats.add(7171)
    live_app.telegram_update(_telegram_message(31, 7171, text="MENU"))
    unreachable = live_app.wait_for(
        lambda: _count(live_app, Beneficiary, Beneficiary.telegram_unreachable.is_(True))
    )
    assert unreachable == 1


def test_a_person_chooses_the_channel_of_their_reminders(live_app: LiveApp) -> None:
    assert "Telegram" in live_app.sms("rappels par telegram").text
    with Session(live_app.engine) as session:
        chosen = session.scalar(
            select(Beneficiary.preferred_channel).where(Beneficiary.phone == DEMO_PHONE)
        )
    assert chosen == "telegram"
