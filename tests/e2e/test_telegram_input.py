"""Telegram input the webhook must survive: an edited message is no new command; malformed
or hostile updates get a 4xx or are ignored, never a 500, and never hold up the next update;
a delivery repeated by Telegram is stored and answered once."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session

from storage.models import AddressOptOut, Conversation, InboundMessage, TelegramUpdate
from tests.e2e.conftest import TELEGRAM_SECRET, LiveApp
from tests.e2e.test_channels import _telegram_message

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"}


def _raw(app: LiveApp, body: str | bytes) -> int:
    return app.client.post("/telegram/webhook", content=body, headers=HEADERS).status_code


def _replies_to(app: LiveApp, chat_id: int) -> list[dict]:
    return [c for c in app.telegram.calls("sendMessage") if int(c["chat_id"]) == chat_id]


def _status(app: LiveApp, update_id: int) -> str | None:
    with Session(app.engine) as session:
        return session.scalar(
            select(TelegramUpdate.status).where(TelegramUpdate.update_id == update_id)
        )


def test_an_edited_message_is_not_a_new_command(live_app: LiveApp) -> None:
    live_app.telegram_update(_telegram_message(100, 7001, text="/start"))
    live_app.wait_for(lambda: _replies_to(live_app, 7001))
    edited = _telegram_message(101, 7001, text="STOP")
    edited["edited_message"] = {**edited.pop("message"), "edit_date": 1764000100}
    assert live_app.telegram_update(edited).status_code == 200
    live_app.telegram_update(_telegram_message(102, 7001, text="MENU"))
    live_app.wait_for(lambda: len(_replies_to(live_app, 7001)) >= 2)
    assert len(_replies_to(live_app, 7001)) == 2, "the edit got no answer of its own"
    with Session(live_app.engine) as session:
        seen = session.scalars(
            select(InboundMessage.provider_id).where(InboundMessage.address == "tg:7001")
        ).all()
        assert session.get(AddressOptOut, "tg:7001") is None, "the edited STOP had no effect"
    assert sorted(seen) == ["100", "102"], "the edit never reached the conversation"


def test_a_send_failing_halfway_sends_only_what_was_left(live_app: LiveApp) -> None:
    live_app.telegram_update(_telegram_message(150, 7005, text="/start"))
    live_app.wait_for(lambda: _replies_to(live_app, 7005))
    with Session(live_app.engine) as session:  # a state from a newer release: two messages,
        conversation = session.get(Conversation, "tg:7005")  # an apology, then the answer
        assert conversation is not None
        conversation.state = {**conversation.state, "v": 10_000}
        session.add(conversation)
        session.commit()
    # Telegram's API fails on the second message; the worker tries the update again later.
    live_app.telegram.fail_next(502, {"ok": False, "error_code": 502}, after=1)
    live_app.telegram_update(_telegram_message(151, 7005, text="MENU"))
    live_app.wait_for(lambda: len(_replies_to(live_app, 7005)) >= 3, timeout=30)
    live_app.wait_for(lambda: _status(live_app, 151) == "done")
    texts = [reply["text"] for reply in _replies_to(live_app, 7005)]
    assert len(texts) == 3, texts  # the welcome, the apology, then (tried again) the answer
    assert texts[1] != texts[2] and not live_app.telegram.failures, texts
    with Session(live_app.engine) as session:
        left = session.scalar(
            select(InboundMessage.reply).where(InboundMessage.provider_id == "151")
        )
    assert left is None, "nothing is left to send"


def test_malformed_updates_get_a_4xx_or_are_ignored_and_the_next_is_answered(
    live_app: LiveApp,
) -> None:
    message = _telegram_message(200, 7002, text="MENU")["message"]
    bodies: list[str | bytes] = [
        "[]",
        "[1, 2]",
        '"update"',
        "null",
        "5",
        "{}",
        '{"update_id": "1"}',
        '{"update_id": 201, "message": 5}',
        '{"update_id": 202, "message": {"chat": 5}}',
        '{"update_id": 99999999999999999999999, "message": {}}',
        "[" * 10_000 + "]" * 10_000,
        '{"update_id": 203, "message": ' + '{"a": ' * 5_000 + "1" + "}" * 5_001,
        json.dumps({"update_id": 204, "message": {**message, "chat": {"id": 2**70}}}),
        b'{"update_id": 205, "message": \xff}',
        "{not json",
    ]
    for body in bodies:
        status = _raw(live_app, body)
        assert 400 <= status < 500 or status == 200, (body[:40], status)
    live_app.telegram_update(_telegram_message(206, 7002, text="MENU"))
    live_app.wait_for(lambda: _replies_to(live_app, 7002))


def test_a_poison_update_is_marked_failed_and_the_next_is_answered(live_app: LiveApp) -> None:
    poison = _telegram_message(300, 7003, text="MENU")
    poison["message"]["date"] = "not a date"  # readable enough to store, not to process
    poison["message"]["from"] = 5
    assert live_app.telegram_update(poison).status_code == 200
    live_app.telegram_update(_telegram_message(301, 7003, text="/start"))
    live_app.wait_for(lambda: _replies_to(live_app, 7003))
    assert live_app.wait_for(lambda: _status(live_app, 300) == "failed")
    assert live_app.wait_for(lambda: _status(live_app, 301) == "done")
    with Session(live_app.engine) as session:
        assert session.get(TelegramUpdate, 300).payload is None, "its personal data is gone"


def test_the_same_update_twice_is_stored_and_answered_once(live_app: LiveApp) -> None:
    update = _telegram_message(400, 7004, text="/start")
    assert live_app.telegram_update(update).status_code == 200
    live_app.wait_for(lambda: _status(live_app, 400) == "done")
    assert live_app.telegram_update(update).status_code == 200  # Telegram's redelivery
    live_app.telegram_update(_telegram_message(401, 7004, text="MENU"))
    live_app.wait_for(lambda: _status(live_app, 401) == "done")
    assert len(_replies_to(live_app, 7004)) == 2
    with Session(live_app.engine) as session:
        stored = session.scalars(select(TelegramUpdate.update_id)).all()
    assert sorted(stored) == [400, 401]
