"""Erasure reaches every address a person ever held: after SMS from two phones (the second
after a phone change by staff), Telegram linked by booklet code, a help message quoting the
booklet and its code and a staff answer sent by Telegram, `passnum privacy erase` (the real
CLI) or the staff API leaves none of their identifiers in any column of any table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import Engine

from bot.outbox.quiet_hours import is_quiet
from tests.e2e.conftest import STAFF_TOKEN, LiveApp

ADMIN = {"Authorization": f"Bearer {STAFF_TOKEN}"}
NAME = "Zéphirine"
OLD_PHONE = "+33644455566"
NEW_PHONE = "+33677788899"
CHAT_ID = 770012345
BOOKLET = "PN-ZQ4719"
CODE = "QX7Z3K"
# Each phone in E.164, national and bare forms; the chat id as text and as an integer.
NEEDLES = [NAME, BOOKLET, CODE, str(CHAT_ID)] + [
    form for phone in (OLD_PHONE, NEW_PHONE) for form in (phone, "0" + phone[3:], phone[3:])
]


def _register(app: LiveApp) -> int:
    answer = app.client.post(
        "/staff/beneficiaries",
        headers=ADMIN,
        json={
            "first_name": NAME,
            "phone": OLD_PHONE,
            "booklet_number": BOOKLET,
            "vouchers": 3,
            "expires_on": "2030-06-30",
            "verification_code": CODE,
        },
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _telegram(app: LiveApp, update_id: int, text: str) -> None:
    """A message from the person's chat, with their name as Telegram sends it; waits for the
    answer so that the next message finds the conversation where this one left it."""
    someone = {"id": CHAT_ID, "is_bot": False, "first_name": NAME}
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1764000000,
        "chat": {"id": CHAT_ID, "type": "private", "first_name": NAME},
        "from": someone,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    before = len(app.telegram.calls("sendMessage"))
    assert app.telegram_update({"update_id": update_id, "message": message}).status_code == 200
    app.wait_for(lambda: len(app.telegram.calls("sendMessage")) > before)


def _cli(app: LiveApp, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PASSNUM_DATABASE_URL": app.settings.database_url,
        "PASSNUM_TELEGRAM_TOKEN": app.settings.telegram_token or "",
        "PASSNUM_TELEGRAM_API_BASE": app.settings.telegram_api_base,
        "PASSNUM_TWILIO_API_BASE": app.settings.twilio_api_base,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _next_open_moment(app: LiveApp) -> datetime:
    """10:00 Paris on the next day that is not quiet (no Sunday, no public holiday)."""
    day = datetime.now(app.settings.tz).date()
    while True:
        day += timedelta(days=1)
        moment = datetime.combine(day, time(10), tzinfo=app.settings.tz)
        if not is_quiet(moment, app.settings):
            return moment.astimezone(UTC)


def _live_a_little(app: LiveApp, tmp_path: Path) -> int:
    person = _register(app)
    for body in ("MENU", f"{BOOKLET} {CODE}", "AIDE", "1"):
        assert app.sms(body, sender=OLD_PHONE).status_code == 200
    app.sms(f"Bonjour, {NAME} ici, mon chequier {BOOKLET} code {CODE} est perdu", sender=OLD_PHONE)
    for update_id, text in enumerate(("/start", BOOKLET, CODE, "1"), start=91000):
        _telegram(app, update_id, text)
    help_id = app.client.get("/staff/help-requests", headers=ADMIN).json()[0]["id"]
    answered = app.client.post(
        f"/staff/help-requests/{help_id}/answer",
        headers=ADMIN,
        json={"text": f"Bonjour {NAME}, passez nous voir avec le chequier {BOOKLET}."},
    )
    assert answered.status_code == 200, answered.text
    ticked = _cli(app, tmp_path, "tick", "--now", _next_open_moment(app).isoformat())
    assert ticked.returncode == 0, ticked.stderr
    moved = app.client.put(
        f"/staff/beneficiaries/{person}/phone", headers=ADMIN, json={"phone": NEW_PHONE}
    )
    assert moved.status_code == 200, moved.text
    for body in ("MENU", "1", f"{BOOKLET} {CODE}"):
        assert app.sms(body, sender=NEW_PHONE).status_code == 200
    return person


def _findings(engine: Engine) -> list[str]:
    """Every (table, column, value) of the database that holds one of the needles: text-like
    values (JSON as text) by substring, integers equal to the chat id."""
    tables = MetaData()
    tables.reflect(bind=engine)
    found = []
    with engine.connect() as connection:
        for table in tables.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    if value == CHAT_ID or (isinstance(value, int) and str(value) == CODE):
                        found.append(f"{table.name}.{column} = {value!r}")
                        continue
                    if isinstance(value, bytes):
                        value = value.decode(errors="replace")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str) and any(n in value for n in NEEDLES):
                        found.append(f"{table.name}.{column} = {value!r}")
    return found


@pytest.mark.parametrize("how", ["cli", "api"])
def test_erasure_leaves_nothing_of_any_address_the_person_held(
    live_app: LiveApp, tmp_path: Path, how: str
) -> None:
    person = _live_a_little(live_app, tmp_path)
    raw = create_engine(live_app.settings.database_url)  # plain engine: reads what is stored
    before = "\n".join(_findings(raw))
    for table in ("inboundmessage.", "conversation.", "auditentry.", "helprequest."):
        assert table in before  # the scenario stored what erasure must remove
    assert f"tg:{CHAT_ID}:" in before  # the staff answer went out by Telegram

    if how == "cli":  # by the old number: found through the person's address history
        erased = _cli(live_app, tmp_path, "privacy", "erase", "06 44 45 55 66", "--yes")
        assert erased.returncode == 0, erased.stdout + erased.stderr
        assert f"Beneficiary {person} erased" in erased.stdout
    else:
        answer = live_app.client.post(f"/staff/privacy/{person}/erase", headers=ADMIN)
        assert answer.status_code == 204

    left = _findings(raw)
    raw.dispose()
    assert left == []
    exported = live_app.client.get(f"/staff/privacy/{person}/export", headers=ADMIN)
    assert not any(n in exported.text for n in NEEDLES)
