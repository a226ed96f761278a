"""`passnum demo` speaks to a newcomer: a readable summary, the console's URL and a demo
coordinator token that really signs in (and the previous one stops working)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from storage.db import create_db_engine, unit_of_work
from storage.staff_tokens import TokenRefused, check_token

TOKEN = re.compile(r"token: (\S+)")


def _demo(runner: CliRunner) -> str:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_prints_a_summary_the_console_and_a_working_admin_token(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSNUM_DATABASE_URL", database_url)
    monkeypatch.setenv("PASSNUM_PUBLIC_URL", "http://localhost:8000")
    runner = CliRunner()
    first = _demo(runner)
    assert "DemoSummary(" not in first
    assert "15 places" in first and "20 people" in first
    assert "Staff console: http://localhost:8000/" in first
    assert ".venv/bin/passnum chat --phone +33612345678" in first
    second = _demo(runner)
    old, new = TOKEN.search(first).group(1), TOKEN.search(second).group(1)  # type: ignore[union-attr]
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        admin = check_token(session, token=new, now=datetime.now(UTC), ttl=timedelta(days=90))
        assert admin.is_admin
        with pytest.raises(TokenRefused):
            check_token(session, token=old, now=datetime.now(UTC), ttl=timedelta(days=90))
    engine.dispose()
