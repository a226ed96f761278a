"""SQLite and several processes: `passnum broadcast` waiting at its confirmation prompt holds no
transaction, so the server's webhooks on the same database file are answered meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from storage.db import create_db_engine, read_only, unit_of_work
from storage.migrate import upgrade
from storage.models import OutboundMessage
from storage.outbox import enqueue
from tests.e2e.conftest import LiveApp

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC)


class _Output:
    """Collects a process's output as it comes (the prompt ends without a newline)."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.text = ""
        self._stream = stream
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while chunk := os.read(self._stream.fileno(), 1024):
            self.text += chunk.decode(errors="replace")

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            assert time.monotonic() < deadline, f"no {needle!r} in {self.text!r}"
            time.sleep(0.05)


def test_a_webhook_is_answered_while_the_broadcast_cli_waits_at_its_prompt(
    live_app: LiveApp,
) -> None:
    if not live_app.settings.database_url.startswith("sqlite"):
        pytest.skip("about SQLite's single writer")
    env = {**os.environ, "PASSNUM_DATABASE_URL": live_app.settings.database_url}
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli.main",
            "broadcast",
            "--segment",
            "all",
            "--message",
            "Bonjour",
        ],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        output = _Output(cli.stdout)
        output.wait_for("Send to")
        started = time.monotonic()
        answer = live_app.sms("MENU", sender="+33655512345")
        elapsed = time.monotonic() - started
        assert answer.status_code == 200, answer.text
        assert "<Message>" in answer.text and elapsed < 5, elapsed
        assert cli.poll() is None  # still at its prompt
        cli.stdin.write(b"y\n")  # type: ignore[union-attr]
        cli.stdin.close()  # type: ignore[union-attr]
        assert cli.wait(timeout=60) == 0, output.text
    finally:
        cli.kill()
    assert "messages queued" in output.text
    with Session(live_app.engine) as session:
        queued = session.scalar(select(func.count()).where(OutboundMessage.body == "Bonjour"))
    assert queued and queued > 0


def test_a_read_only_unit_of_work_lets_another_process_write(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    upgrade(create_db_engine(url))
    reader, writer = create_db_engine(url), create_db_engine(url)  # as two processes
    with read_only(reader) as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0
        started = time.monotonic()
        with unit_of_work(writer) as other:
            enqueue(other, channel="sms", address="+33655512345", body="Hi", now=NOW)
            other.commit()
        assert time.monotonic() - started < 1
