"""Bad input gets a clear 4xx (or is cleaned), never a 500: NUL characters (PostgreSQL refuses
them in text), times in year 1 or 9999, ids beyond the INTEGER range. Over loopback HTTP, the
CLI and the CSV import, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli.main import app
from storage.db import unit_of_work
from storage.imports import import_slots
from storage.models import InboundMessage, Place
from tests.e2e.conftest import STAFF_TOKEN, LiveApp

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
SLOT = {
    "place_id": 1,
    "topic": "email",
    "starts_at": "2030-03-04T14:00:00",
    "ends_at": "2030-03-04T16:00:00",
    "capacity": 6,
}


def test_a_nul_byte_in_a_webhook_field_is_cleaned(live_app: LiveApp) -> None:
    answer = live_app.sms("ME\x00NU", sender="+3361234\x005678")
    assert answer.status_code == 200 and "<Message>" in answer.text
    with Session(live_app.engine) as session:
        stored = session.execute(select(InboundMessage.address, InboundMessage.body)).one()
    assert tuple(stored) == ("+33612345678", "MENU")


def test_an_oversized_sender_is_refused(live_app: LiveApp) -> None:
    assert live_app.sms("MENU", sender="+33" + "6" * 80).status_code == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/staff/slots", {**SLOT, "title": "Atelier\x00mail"}),
        ("/staff/members", {"name": "Ana\x00", "role": "advisor"}),
        ("/staff/broadcasts/preview", {"segment": "commune:Gre\x00noble", "message": "x"}),
    ],
)
def test_a_nul_byte_in_a_staff_api_field_is_a_422(live_app: LiveApp, path: str, body: dict) -> None:
    answer = live_app.client.post(path, json=body, headers=STAFF)
    assert answer.status_code == 422, answer.text
    assert "NUL" in answer.text


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_a_slot_in_year_1_or_9999_is_a_422(live_app: LiveApp, year: str) -> None:
    body = {**SLOT, "starts_at": f"{year}-01-01T00:00:00", "ends_at": f"{year}-01-01T02:00:00"}
    created = live_app.client.post("/staff/slots", json=body, headers=STAFF)
    assert created.status_code == 422, created.text
    moved = live_app.client.patch(
        "/staff/slots/1", json={"starts_at": f"{year}-12-31T23:00:00"}, headers=STAFF
    )
    assert moved.status_code == 422, moved.text


def test_a_staff_member_on_place_ten_to_the_thirty_is_a_422(live_app: LiveApp) -> None:
    answer = live_app.client.post(
        "/staff/members", json={"name": "Ana", "place_ids": [10**30]}, headers=STAFF
    )
    assert answer.status_code == 422, answer.text


def test_the_cli_refuses_year_1_slots_and_huge_place_ids(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSNUM_DATABASE_URL", database_url)
    cli = CliRunner()
    assert cli.invoke(app, ["demo"]).exit_code == 0
    slot = cli.invoke(
        app,
        [
            "staff",
            "add-slot",
            "--place",
            "1",
            "--topic",
            "email",
            "--capacity",
            "4",
            "--starts",
            "0001-01-01T00:00",
            "--ends",
            "0001-01-01T02:00",
        ],
    )
    assert slot.exit_code == 2 and "between 2000 and 2100" in slot.output
    member = cli.invoke(app, ["staff", "add", "Ana", "--place", str(10**30)])
    assert member.exit_code == 2 and "place ids" in member.output


def test_a_csv_slot_in_year_1_is_a_row_error(live_app: LiveApp) -> None:
    with Session(live_app.engine) as session:
        place = session.scalars(select(Place.external_id)).first()
    lines = [
        "id,place_id,topic,starts_at,ends_at,capacity",
        f"y1,{place},email,0001-01-01T00:00,0001-01-01T02:00,4",
    ]
    with unit_of_work(live_app.engine) as session:
        report = import_slots(session, lines)
        session.commit()
    assert report.errors and "between 2000 and 2100" in report.errors[0].reason
