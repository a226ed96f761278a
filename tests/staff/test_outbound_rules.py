"""Who may never be written to, end to end: an address that said STOP (known person or not) and
premium-rate, shared-cost or foreign numbers. Live app over HTTP, the real dispatcher, fake
Twilio."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli.main import app as cli_app
from bot.outbox import quiet_hours
from bot.outbox.channel_providers import build_providers
from bot.outbox.dispatcher import Dispatcher
from storage import outbox
from storage.db import unit_of_work
from storage.models import Beneficiary, HelpRequest, OutboundMessage
from storage.opt_outs import record_address_opt_out
from tests.e2e.conftest import STAFF_TOKEN, LiveApp
from tests.staff.helpers import FAST, NOW, add_people, bearer

ADMIN = bearer(STAFF_TOKEN)
STRANGER = "+33655501234"
REFUSED = ["+33899123456", "+19005551234", "+2250701020304"]  # premium FR, premium US, Ivory Coast


def _open_hour(live_app: LiveApp) -> datetime:
    """An allowed moment after the rows were queued: the app queues at the clock's time, and
    NOW (taken at import) may be minutes older when other test files ran first."""
    return quiet_hours.next_allowed(datetime.now(UTC) + timedelta(minutes=1), live_app.settings)


def _dispatch(live_app: LiveApp, now: datetime) -> None:
    providers = build_providers(live_app.settings)
    dispatcher = Dispatcher(live_app.engine, providers, live_app.settings, config=FAST)
    asyncio.run(dispatcher.dispatch_due(now))


def _outbox(live_app: LiveApp) -> list[OutboundMessage]:
    with Session(live_app.engine) as session:
        return list(session.scalars(select(OutboundMessage)))


def _said_stop(live_app: LiveApp, address: str) -> None:
    """What the inbound path records when an address texts STOP."""
    with unit_of_work(live_app.engine) as session:
        record_address_opt_out(session, channel="sms", address=address, now=NOW)
        session.commit()


def test_a_help_answer_to_an_address_that_said_stop_is_not_sent(live_app: LiveApp) -> None:
    with unit_of_work(live_app.engine) as session:
        asked = HelpRequest(channel="sms", address=STRANGER, text="aidez moi", created_at=NOW)
        session.add(asked)
        session.commit()
    _said_stop(live_app, STRANGER)
    answered = live_app.client.post(
        f"/staff/help-requests/{asked.id}/answer", headers=ADMIN, json={"text": "Bonjour !"}
    )
    assert answered.status_code == 200, answered.text
    _dispatch(live_app, _open_hour(live_app))
    assert [m["To"] for m in live_app.twilio.sent] == []
    [row] = _outbox(live_app)
    assert (row.status, row.error) == ("cancelled", "opted out")


def test_a_broadcast_skips_a_number_that_said_stop(live_app: LiveApp) -> None:
    phones = add_people(live_app.engine, 5)
    _said_stop(live_app, phones[0])
    draft = live_app.client.post(
        "/staff/broadcasts", headers=ADMIN, json={"segment": "commune:38057", "message": "Fermé"}
    ).json()
    assert draft["preview"]["recipients"] == 4
    broadcast_id = draft["broadcast"]["id"]
    live_app.client.post(f"/staff/broadcasts/{broadcast_id}/confirm", headers=ADMIN)
    _said_stop(live_app, phones[1])  # after queueing, before sending
    _dispatch(live_app, _open_hour(live_app))
    assert sorted(m["To"] for m in live_app.twilio.sent) == sorted(phones[2:])
    cancelled = [r.address for r in _outbox(live_app) if r.status == "cancelled"]
    assert cancelled == [phones[1]]


def test_premium_and_foreign_numbers_are_refused_at_registration(live_app: LiveApp) -> None:
    for i, phone in enumerate(REFUSED):
        person = {
            "first_name": "Eve",
            "phone": phone,
            "booklet_number": f"R-{i}",
            "vouchers": 5,
            "expires_on": "2099-12-31",
            "verification_code": "1234",
        }
        answer = live_app.client.post("/staff/beneficiaries", headers=ADMIN, json=person)
        assert answer.status_code == 422, answer.text
        assert "refused" in answer.text or "not allowed" in answer.text
    reunion = {**person, "phone": "+262 692 12 34 56", "booklet_number": "R-ok"}
    assert live_app.client.post("/staff/beneficiaries", headers=ADMIN, json=reunion).is_success
    with unit_of_work(live_app.engine) as session:
        phones = set(session.scalars(select(Beneficiary.phone)))
    assert not phones & set(REFUSED)


def test_csv_and_cli_registration_report_a_refused_number(live_app: LiveApp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "people.csv"
    rows = [f"B-{i};Eve;{phone};5;2099-12-31;1234" for i, phone in enumerate(REFUSED)]
    header = "booklet_number;first_name;phone;vouchers;expires_on;verification_code"
    csv.write_text("\n".join([header, *rows, "B-ok;Ana;06 55 50 00 01;5;2099-12-31;1234"]))
    env = {"PASSNUM_DATABASE_URL": live_app.settings.database_url}
    runner = CliRunner()
    imported = runner.invoke(cli_app, ["import", "beneficiaries", str(csv)], env=env)
    assert imported.exit_code == 1
    assert imported.output.count("refused") + imported.output.count("not allowed") == 3
    assert "1 created" in imported.output, imported.output
    registered = runner.invoke(
        cli_app,
        [
            "staff",
            "register",
            "--booklet",
            "C-1",
            "--first-name",
            "Eve",
            "--phone",
            REFUSED[0],
            "--vouchers",
            "5",
            "--expires-on",
            "2099-12-31",
            "--code",
            "1234",
        ],
        env=env,
    )
    assert registered.exit_code != 0 and "premium-rate" in registered.output


def test_the_dispatcher_cancels_sms_to_refused_destinations(live_app: LiveApp) -> None:
    live_app.settings.sms_allowed_regions = "FR"
    with unit_of_work(live_app.engine) as session:
        for i, address in enumerate([*REFUSED, "+262692123456", "+33655500002"]):
            outbox.enqueue(session, channel="sms", address=address, body=f"M{i}", now=NOW)
        session.commit()
    _dispatch(live_app, _open_hour(live_app))
    assert [m["To"] for m in live_app.twilio.sent] == ["+33655500002"]
    reasons = {r.address: r.error or "" for r in _outbox(live_app) if r.status == "cancelled"}
    assert set(reasons) == {*REFUSED, "+262692123456"}
    assert "premium-rate" in reasons["+33899123456"] and "CI" in reasons["+2250701020304"]
    assert "RE" in reasons["+262692123456"]
