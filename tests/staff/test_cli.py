"""`passnum broadcast` and `passnum staff …` through typer's CliRunner on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli.main import app
from storage.db import create_db_engine, unit_of_work
from storage.models import Broadcast, OutboundMessage

MESSAGE = "Nouvel atelier d’initiation : êtes-vous prêts ? Répondez ATELIER…"


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PASSNUM_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    return runner


def _count(database_url: str, model: type) -> int:
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return total


def _broadcast(cli: CliRunner, *extra: str, answer: str | None = None):  # type: ignore[no-untyped-def]
    return cli.invoke(
        app, ["broadcast", "--segment", "unused", "--message", MESSAGE, *extra], input=answer
    )


def test_dry_run_prints_the_preview_and_sends_nothing(cli: CliRunner, database_url: str) -> None:
    result = _broadcast(cli, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Recipients" in result.output and "19" in result.output  # PN-0002 has none left
    assert "SMS segments per message" in result.output and "1.33 €" in result.output
    assert "Nouvel atelier d'initiation : etes-vous prets ? Répondez ATELIER..." in result.output
    assert _count(database_url, OutboundMessage) == 0 and _count(database_url, Broadcast) == 0


def test_without_dry_run_it_asks_first(cli: CliRunner, database_url: str) -> None:
    refused = _broadcast(cli, answer="n\n")
    assert refused.exit_code == 1 and "Send to 19 people?" in refused.output
    assert _count(database_url, OutboundMessage) == 0
    accepted = _broadcast(cli, answer="y\n")
    assert accepted.exit_code == 0 and "19 messages queued" in accepted.output
    assert _count(database_url, OutboundMessage) == 19


def test_yes_skips_the_question(cli: CliRunner, database_url: str) -> None:
    result = _broadcast(cli, "--yes")
    assert result.exit_code == 0 and "?" not in result.output.split("queued")[0][-40:]
    assert _count(database_url, OutboundMessage) == 19


def test_a_bad_segment_is_refused(cli: CliRunner) -> None:
    result = cli.invoke(app, ["broadcast", "--segment", "slot:x", "--message", "Bonjour"])
    assert result.exit_code == 2 and "slot needs a number" in result.output


def test_staff_add_prints_a_token_and_stats_write_csv(cli: CliRunner, tmp_path: Path) -> None:
    added = cli.invoke(app, ["staff", "add", "Nadia", "--role", "advisor", "--place", "1"])
    assert added.exit_code == 0 and "shown only once" in added.output
    link = cli.invoke(app, ["staff", "telegram-link", "1"])
    assert link.exit_code == 0 and "https://t.me/passnum_bot?start=staff-" in link.output
    table = cli.invoke(app, ["staff", "stats"])
    assert table.exit_code == 0 and "vouchers issued" in table.output
    target = tmp_path / "stats.csv"
    assert cli.invoke(app, ["staff", "stats", "--csv", str(target)]).exit_code == 0
    lines = target.read_text().splitlines()
    assert lines[0] == "section,month,place,channel,metric,value"
    assert {"totals,,,,vouchers_issued,130", "totals,,,,vouchers_redeemed,5"} <= set(lines)
