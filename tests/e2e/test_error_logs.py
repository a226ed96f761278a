"""A database error never writes personal data to the logs, and /healthz never says where the
database is. The server is a real `passnum serve` process whose whole output is read; its
database is broken under it (a dropped table on SQLite; on PostgreSQL a check constraint that
refuses every inbound row, whose error quotes the failing row)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from bot.server import create_app
from config import load_settings
from storage.db import create_db_engine, unit_of_work
from storage.demo import load_demo
from tests.e2e.conftest import AUTH_TOKEN, PUBLIC_URL, _free_port
from tests.factories import NOW

PHONE = "+33698765432"
BODY = "mon code secret est 9988 et j'habite 12 rue des Lilas"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`passnum serve` on the database; yields its URL and the file its output goes to."""
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        load_demo(session, now=NOW)
        session.commit()
    engine.dispose()
    port, output = _free_port(), tmp_path / "serve.log"
    env = {
        **os.environ,
        "PASSNUM_DATABASE_URL": database_url,
        "PASSNUM_PUBLIC_URL": PUBLIC_URL,
        "PASSNUM_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PASSNUM_TELEGRAM_TOKEN": "",
    }
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while not _healthy(url):
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.2)
            yield url, output
        finally:
            process.terminate()
            process.wait(timeout=20)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _break_inbound_storage(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TABLE inboundmessage"))
        else:
            connection.execute(
                text("ALTER TABLE inboundmessage ADD CONSTRAINT refuse_all CHECK (false) NOT VALID")
            )
    engine.dispose()


def test_a_database_error_during_a_webhook_logs_no_phone_and_no_text(
    server: tuple[str, Path], database_url: str
) -> None:
    url, output = server
    _break_inbound_storage(database_url)
    params = {"From": PHONE, "To": "+33700000000", "Body": BODY, "MessageSid": "SM" + "7" * 32}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms/twilio", params)
    answer = httpx.post(
        url + "/sms/twilio", data=params, headers={"X-Twilio-Signature": signature}, timeout=20
    )
    assert answer.status_code == 500
    time.sleep(0.5)  # the traceback is written after the answer
    logged = output.read_text(errors="replace")
    assert "Traceback" in logged and "inboundmessage" in logged  # the error itself is there
    for secret in (PHONE, PHONE[1:], "0698765432", "9988", "rue des Lilas"):
        assert secret not in logged


@pytest.fixture
def app_on_a_closed_port() -> Iterator[str]:
    """The app, served on loopback, whose PostgreSQL database is a port nobody listens on."""
    closed = _free_port()
    database_url = f"postgresql+psycopg://passnum:pw-s3cret@127.0.0.1:{closed}/passnum"
    settings = load_settings(database_url=database_url, telegram_token="")
    engine = create_db_engine(database_url, connect_args={"connect_timeout": 2})
    app = create_app(settings, engine=engine, run_scheduler=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}|{closed}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def test_health_names_the_failed_database_not_where_it_is(app_on_a_closed_port: str) -> None:
    url, closed = app_on_a_closed_port.split("|")
    answer = httpx.get(url + "/healthz", timeout=20)
    assert answer.status_code == 503
    assert answer.json() == {"status": "error", "database": "unavailable"}
    for secret in ("127.0.0.1", closed, "pw-s3cret", "passnum", "5432"):
        assert secret not in answer.text
