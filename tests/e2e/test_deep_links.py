"""Telegram deep links issued by staff: one use, seven days, the newest one only. Through the
real webhook; the assistant's clock is moved to test the expiry."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

from sqlalchemy import select
from sqlmodel import Session

from flows.types import Start
from storage.models import Beneficiary
from tests.e2e.conftest import STAFF_TOKEN, LiveApp
from tests.e2e.test_channels import _telegram_message

ADMIN = {"Authorization": f"Bearer {STAFF_TOKEN}"}
AICHA = "+33612345678"
NO_LONGER_VALID = "Ce lien n'est plus valable"


def _aicha(live_app: LiveApp) -> int:
    with Session(live_app.engine) as session:
        return int(session.scalar(select(Beneficiary.id).where(Beneficiary.phone == AICHA)) or 0)


def _issue(live_app: LiveApp, person: int) -> str:
    issued = live_app.client.post(f"/staff/beneficiaries/{person}/telegram-link", headers=ADMIN)
    assert issued.status_code == 200, issued.text
    return str(issued.json()["link"].split("?start=")[1])


def _open(live_app: LiveApp, update_id: int, chat_id: int, token: str) -> str:
    """Open the link from `chat_id`; the bot's answer to that chat."""
    live_app.telegram_update(_telegram_message(update_id, chat_id, text=f"/start {token}"))

    def answer() -> str | None:
        for call in live_app.telegram.calls("sendMessage"):
            if int(call["chat_id"]) == chat_id:
                return str(call["text"])
        return None

    return str(live_app.wait_for(answer))


def _chat_of(live_app: LiveApp, person: int) -> int | None:
    with Session(live_app.engine) as session:
        return session.scalar(select(Beneficiary.telegram_chat_id).where(Beneficiary.id == person))


def test_a_deep_link_works_once_a_second_chat_gets_nothing(live_app: LiveApp) -> None:
    person = _aicha(live_app)
    token = _issue(live_app, person)
    assert "Aïcha" in _open(live_app, 81, 8101, token)
    assert _chat_of(live_app, person) == 8101
    second = _open(live_app, 82, 8102, token)
    assert second.startswith(NO_LONGER_VALID)
    assert _chat_of(live_app, person) == 8101  # the first chat keeps the account


def test_a_deep_link_expires_after_seven_days(live_app: LiveApp) -> None:
    person, issued_at = _aicha(live_app), datetime.now(UTC)
    token = _issue(live_app, person)
    assistant = live_app.services.assistant
    assistant.clock = lambda: issued_at + timedelta(days=7, minutes=1)
    assert _open(live_app, 83, 8103, token).startswith(NO_LONGER_VALID)
    assert _chat_of(live_app, person) is None
    fresh = _issue(live_app, person)
    assistant.clock = lambda: issued_at + timedelta(days=6, hours=23)
    assert "Aïcha" in _open(live_app, 84, 8104, fresh)
    assert _chat_of(live_app, person) == 8104


def test_a_new_link_revokes_the_previous_one(live_app: LiveApp) -> None:
    person = _aicha(live_app)
    old, new = _issue(live_app, person), _issue(live_app, person)
    assert _open(live_app, 85, 8105, old).startswith(NO_LONGER_VALID)
    assert _chat_of(live_app, person) is None
    assert "Aïcha" in _open(live_app, 86, 8106, new)
    assert _chat_of(live_app, person) == 8106


def test_two_chats_opening_one_link_at_once_link_one(live_app: LiveApp) -> None:
    """Straight to the conversation service from two threads: the token is spent atomically."""
    person, token = _aicha(live_app), _issue(live_app, _aicha(live_app))
    assistant, start = live_app.services.assistant, Barrier(2)

    def open_from(chat_id: int) -> list[str]:
        start.wait()
        turn = assistant.handle(
            channel="telegram", address=f"tg:{chat_id}", message=Start(token=token)
        )
        return [reply.key for reply in turn.replies]

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(open_from, (8107, 8108)))
    assert sorted(keys[0] for keys in answers) == ["identity.bad_link", "menu.linked"]
    winner = 8107 if answers[0][0] == "menu.linked" else 8108
    assert _chat_of(live_app, person) == winner
