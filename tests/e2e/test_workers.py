"""`passnum serve --workers N`: several server processes on one port (PostgreSQL), refused on
SQLite with a clear message; a killed worker is replaced and every message is answered once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from bot.fakes.servers import FakeTwilio
from storage.db import create_db_engine, unit_of_work
from storage.demo import load_demo
from storage.migrate import upgrade
from storage.models import Beneficiary, InboundMessage
from tests.conftest import POSTGRES_URL
from tests.e2e.conftest import _free_port
from tests.e2e.test_two_processes import _env, _post, _signed

MESSAGES = 200


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_several_workers_on_sqlite_are_refused(tmp_path: Path) -> None:
    with FakeTwilio() as twilio:
        env = _env(f"sqlite:///{tmp_path / 'one.db'}", twilio)
        server = _serve(env, "--workers", "2", "--port", str(_free_port()))
        _out, err = server.communicate(timeout=60)
    assert server.returncode == 2
    message = " ".join(err.decode().split())
    assert "--workers > 1 needs PostgreSQL" in message and "SQLite" in message


def _workers(parent: int) -> set[int]:
    """The server's worker processes (uvicorn spawns them with multiprocessing)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in command:
            found.add(int(entry.name))
    return found


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PASSNUM_TEST_DATABASE_URL")
def test_workers_share_the_port_and_a_killed_one_is_replaced(postgres_schema_url: str) -> None:
    engine = create_db_engine(postgres_schema_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        load_demo(session, now=datetime.now(UTC))
        session.commit()
        phones = [p for p in session.scalars(select(Beneficiary.phone)).all() if p]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with FakeTwilio() as twilio:
        server = _serve(_env(postgres_schema_url, twilio), "--workers", "2", "--port", str(port))
        try:
            _wait_until_up(url, server)
            workers = _workers(server.pid)
            assert len(workers) == 2
            os.kill(min(workers), signal.SIGKILL)
            jobs = [
                _signed(phones[n % len(phones)], ["1", "MENU", "3"][n % 3], f"SMW{n:029d}")
                for n in range(MESSAGES)
            ]
            with ThreadPoolExecutor(max_workers=16) as pool:
                answers = list(pool.map(lambda job: _post(url, *job), jobs))
            deadline = time.monotonic() + 30
            while len(_workers(server.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            replaced = _workers(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert all(answer.count("<Message>") >= 1 for answer in answers)
    assert len(replaced) == 2 and min(workers) not in replaced, "the killed worker came back"
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == MESSAGES
    engine.dispose()
