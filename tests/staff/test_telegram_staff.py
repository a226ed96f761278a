"""Staff commands in Telegram, through the webhook of the live app and the fake Bot API."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from storage.db import unit_of_work
from storage.models import Broadcast, Slot, Staff
from storage.staff import CLI_ADMIN, issue_staff_link
from tests.e2e.conftest import LiveApp
from tests.staff.helpers import NOW, add_people, new_staff

_updates = itertools.count(100)
STAFF_CHAT, STRANGER = 7001, 7002


def _command(live_app: LiveApp, chat_id: int, text: str) -> str:
    """Send `/command args` from a chat; return the bot's answer to that chat."""
    before = len(_answers(live_app, chat_id))
    update_id = next(_updates)
    command = text.split()[0]
    live_app.telegram_update(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1764000000,
                "text": text,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
                "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
            },
        }
    )
    return str(live_app.wait_for(lambda: _answers(live_app, chat_id)[before:])[0])


def _answers(live_app: LiveApp, chat_id: int) -> list[str]:
    return [
        call["text"]
        for call in live_app.telegram.calls("sendMessage")
        if int(call["chat_id"]) == chat_id
    ]


def _link(live_app: LiveApp, staff_id: int) -> str:
    with unit_of_work(live_app.engine) as session:
        token = issue_staff_link(session, staff_id=staff_id, by=CLI_ADMIN, now=NOW)
        session.commit()
    return token


def test_staff_link_then_broadcast_with_preview_and_confirm(live_app: LiveApp) -> None:
    staff_id, _ = new_staff(live_app.engine, "Nadia", role="admin")
    token = _link(live_app, staff_id)
    assert "Nadia" in _command(live_app, STAFF_CHAT, f"/start {token}")
    with unit_of_work(live_app.engine) as session:
        assert session.get(Staff, staff_id).telegram_chat_id == STAFF_CHAT  # type: ignore[union-attr]
    assert "pas valable" in _command(live_app, STRANGER, f"/start {token}")  # one time only
    add_people(live_app.engine, 12)
    preview = _command(live_app, STAFF_CHAT, "/diffuser commune:38057 Atelier gratuit lundi")
    assert "12 destinataires" in preview and "/confirmer" in preview
    broadcast_id = preview.rsplit(" ", 1)[-1]
    assert "12 messages" in _command(live_app, STAFF_CHAT, f"/confirmer {broadcast_id}")
    assert "vouchers issued" in _command(live_app, STAFF_CHAT, "/stats")


def test_presence_lists_and_marks(live_app: LiveApp) -> None:
    staff_id, _ = new_staff(live_app.engine, "Nadia", places=[1])
    _command(live_app, STAFF_CHAT, f"/start {_link(live_app, staff_id)}")
    with unit_of_work(live_app.engine) as session:
        slot_id = session.scalars(select(Slot.id).where(Slot.place_id == 1)).first()
        other = session.scalars(select(Slot.id).where(Slot.place_id == 2)).first()
    assert "Personne" in _command(live_app, STAFF_CHAT, f"/presence {slot_id}")
    assert "Refusé" in _command(live_app, STAFF_CHAT, f"/presence {other}")
    assert "Refusé" in _command(live_app, STAFF_CHAT, "/present 99999")


def test_unlinked_chats_get_nothing(live_app: LiveApp) -> None:
    assert "réservée" in _command(live_app, STRANGER, "/diffuser all Bonjour")
    with unit_of_work(live_app.engine) as session:
        assert session.scalars(select(Broadcast)).all() == []
