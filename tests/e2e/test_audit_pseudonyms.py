"""The audit log never holds a phone number or a chat id: a beneficiary who links is named by
their id, a chat that is not staff by a keyed hash (the same chat, the same name)."""

from __future__ import annotations

import itertools

from sqlalchemy import select
from sqlmodel import Session

from storage.demo import DEMO_BOOKLET, DEMO_CODE
from storage.models import AuditEntry, Beneficiary
from tests.e2e.conftest import LiveApp

_updates = itertools.count(52000)
STRANGER, OTHER = 912345678, 912345679


def _command(app: LiveApp, chat_id: int, text: str) -> None:
    update_id = next(_updates)
    command = text.split()[0]
    before = len(app.telegram.calls("sendMessage"))
    app.telegram_update(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1764000000,
                "text": text,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "X"},
                "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
            },
        }
    )
    app.wait_for(lambda: len(app.telegram.calls("sendMessage")) > before)


def _audit(app: LiveApp) -> list[AuditEntry]:
    with Session(app.engine) as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_a_linked_beneficiary_is_named_by_id_not_by_number(live_app: LiveApp) -> None:
    live_app.sms("Bonjour", sender="+33655544433")  # a new phone, then a demo booklet
    live_app.sms(f"{DEMO_BOOKLET} {DEMO_CODE}", sender="+33655544433")
    with Session(live_app.engine) as session:
        person = session.scalar(select(Beneficiary.id).where(Beneficiary.phone == "+33655544433"))
    links = [e for e in _audit(live_app) if e.action == "link_address"]
    assert [(e.actor, e.record) for e in links] == [
        (f"beneficiary:{person}", f"beneficiary:{person}")
    ]


def test_a_chat_that_is_not_staff_is_named_by_a_keyed_hash(live_app: LiveApp) -> None:
    _command(live_app, STRANGER, "/start staff-not-a-real-token")
    _command(live_app, STRANGER, "/stats")
    _command(live_app, OTHER, "/stats")
    refused = [e for e in _audit(live_app) if e.action.startswith("refused.")]
    assert [e.action for e in refused] == [
        "refused.staff_link",
        "refused.not_staff",
        "refused.not_staff",
    ]
    assert all(str(STRANGER)[3:] not in f"{e.actor} {e.record} {e.detail}" for e in refused)
    assert refused[0].actor == refused[1].actor != refused[2].actor
    assert refused[0].actor.startswith("telegram:h:") and len(refused[0].actor) == 27
