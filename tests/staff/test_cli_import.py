"""`passnum import places FILE`: the staff command of the console's upload (`ImportPlaces`), with
the progress bar and the per-row error report of every import (SPEC section 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli.main import app
from storage.db import create_db_engine, unit_of_work
from storage.models import AuditEntry, Place

DATA = Path(__file__).parents[1] / "storage" / "data"


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PASSNUM_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    return runner


def test_import_places_reports_bad_rows_by_line_and_is_audited(
    cli: CliRunner, database_url: str
) -> None:
    result = cli.invoke(app, ["import", "places", str(DATA / "places-courriel.csv")])
    assert result.exit_code == 1, result.output
    assert "Importing places" in result.output and "12/12" in result.output
    # Line 4 holds a two-line quoted cell: the lines after it keep their numbers in the file.
    assert "line 6: nom: missing" in result.output
    assert "line 8: latitude: not a number ('45,1x')" in result.output
    assert "line 11: commune 'Crolles' not found" in result.output
    assert "9 created, 0 updated, 0 unchanged, 3 errors" in result.output
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        hours = session.scalar(
            select(Place.opening_hours).where(Place.external_id == "mednum-0003")
        )
        audited = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail))
        entries = [tuple(row) for row in audited]
    engine.dispose()
    assert hours == "Lundi : 9h-12h\nMercredi : 14h-17h"
    assert ("cli", "places.import", "9 created, 0 updated, 0 unchanged, 3 errors") in entries


def test_import_places_again_changes_nothing_and_exits_0_without_errors(
    cli: CliRunner, tmp_path: Path
) -> None:
    good = tmp_path / "places.csv"
    lines = (DATA / "places-courriels.csv").read_text(encoding="utf-8-sig").splitlines()
    good.write_text("\ufeff" + "\n".join(line for line in lines if "91.5" not in line) + "\n")
    first = cli.invoke(app, ["import", "places", str(good)])
    assert first.exit_code == 0 and "3 created, 0 updated, 0 unchanged" in first.output
    again = cli.invoke(app, ["import", "places", str(good)])
    assert again.exit_code == 0 and "0 created, 0 updated, 3 unchanged" in again.output
