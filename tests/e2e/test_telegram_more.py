"""Telegram beyond the webhook basics: a staff deep link, and polling mode."""

from __future__ import annotations

import threading
import time

import uvicorn
from sqlalchemy import select
from sqlmodel import Session

from bot.fakes.servers import FakeTelegram
from bot.server import create_app
from config import load_settings
from storage.db import create_db_engine, unit_of_work
from storage.demo import load_demo
from storage.models import Beneficiary
from tests.e2e.conftest import STAFF_TOKEN, LiveApp, _free_port
from tests.e2e.test_channels import _telegram_message


def test_a_staff_deep_link_links_the_chat_that_opens_it(live_app: LiveApp) -> None:
    with Session(live_app.engine) as session:
        person = session.scalar(select(Beneficiary.id).where(Beneficiary.phone == "+33612345678"))
    issued = live_app.client.post(
        f"/staff/beneficiaries/{person}/telegram-link",
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
    )
    assert issued.status_code == 200
    link = issued.json()["link"]
    assert link.startswith("https://t.me/")
    token = link.split("?start=")[1]
    live_app.telegram_update(_telegram_message(40, 8181, text=f"/start {token}"))

    def chat_of_person() -> int | None:
        with Session(live_app.engine) as session:
            return session.scalar(
                select(Beneficiary.telegram_chat_id).where(Beneficiary.id == person)
            )

    linked = live_app.wait_for(chat_of_person)
    assert linked == 8181
    replies = live_app.wait_for(lambda: live_app.telegram.calls("sendMessage"))
    assert int(replies[0]["chat_id"]) == 8181


def test_polling_mode_without_a_public_https_url(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        from datetime import UTC, datetime

        load_demo(session, now=datetime.now(UTC))
        session.commit()
    with FakeTelegram() as telegram:
        settings = load_settings(
            database_url=database_url,
            public_url="http://localhost:8000",
            telegram_token="123456:POLL",
            telegram_api_base=telegram.url,
        )
        app = create_app(settings, engine=engine, run_scheduler=False)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while not telegram.calls("getUpdates"):
                assert time.monotonic() < deadline, "the bot never polled"
                time.sleep(0.05)
            assert telegram.calls("setWebhook") == []
            with telegram.lock:
                telegram.pending_updates.append(_telegram_message(50, 9191, text="/start"))
            while not telegram.calls("sendMessage"):
                assert time.monotonic() < deadline, "no answer to a polled update"
                time.sleep(0.05)
            assert int(telegram.calls("sendMessage")[0]["chat_id"]) == 9191
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            engine.dispose()
