"""The two-person rule cannot be bypassed: not by approving one's own broadcast, not through an
account one just created, not by splitting an audience into small overlapping broadcasts.
Through the staff API on the live app, and through the real `passnum` command line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.cli.main import app
from storage.db import create_db_engine, unit_of_work
from storage.models import AuditEntry, Beneficiary, Broadcast
from tests.e2e.conftest import STAFF_TOKEN, LiveApp
from tests.staff.helpers import NOW, add_people, bearer, new_staff

BOOTSTRAP = bearer(STAFF_TOKEN)
BRESSON, ELSEWHERE = "38057", "38059"
OLD = NOW - timedelta(days=3)


def _held_broadcast(live_app: LiveApp, author: dict[str, str]) -> int:
    """A broadcast over the threshold, confirmed by `author`: it waits for approval."""
    with unit_of_work(live_app.engine) as session:
        crowd = session.scalar(select(Beneficiary.id).where(Beneficiary.first_name == "P500"))
    if crowd is None:
        add_people(live_app.engine, 501)
    draft = live_app.client.post(
        "/staff/broadcasts", headers=author, json={"segment": "all", "message": "Bonjour"}
    )
    broadcast_id = int(draft.json()["broadcast"]["id"])
    held = live_app.client.post(f"/staff/broadcasts/{broadcast_id}/confirm", headers=author)
    assert held.json()["status"] == "pending_approval", held.text
    return broadcast_id


def _approve(live_app: LiveApp, broadcast_id: int, token: str):  # type: ignore[no-untyped-def]
    return live_app.client.post(f"/staff/broadcasts/{broadcast_id}/approve", headers=bearer(token))


def _create_admin(live_app: LiveApp, creator: dict[str, str], name: str) -> str:
    created = live_app.client.post(
        "/staff/members", headers=creator, json={"name": name, "role": "admin"}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["token"])


def test_an_admin_cannot_approve_their_own_broadcast(live_app: LiveApp) -> None:
    _, nadia = new_staff(live_app.engine, "Nadia", role="admin", at=OLD)
    broadcast_id = _held_broadcast(live_app, bearer(nadia))
    refused = _approve(live_app, broadcast_id, nadia)
    assert refused.status_code == 403 and "someone else" in refused.json()["detail"]


def test_an_account_the_author_created_today_cannot_approve_an_older_one_can(
    live_app: LiveApp,
) -> None:
    _, nadia = new_staff(live_app.engine, "Nadia", role="admin", at=OLD)
    accomplice = _create_admin(live_app, bearer(nadia), "Accomplice")
    broadcast_id = _held_broadcast(live_app, bearer(nadia))
    refused = _approve(live_app, broadcast_id, accomplice)
    assert refused.status_code == 403 and "less than a day" in refused.json()["detail"]
    _, paul = new_staff(live_app.engine, "Paul", role="admin", at=OLD)
    approved = _approve(live_app, broadcast_id, paul)
    assert approved.status_code == 200 and approved.json()["status"] == "queued"
    with unit_of_work(live_app.engine) as session:
        refusals = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "refused.forbidden")
        ).all()
    assert len(refusals) == 1 and "less than a day" in str(refusals[0])


def test_the_bootstrap_token_is_one_identity_in_both_directions(live_app: LiveApp) -> None:
    puppet = _create_admin(live_app, BOOTSTRAP, "Puppet")
    mine = _held_broadcast(live_app, BOOTSTRAP)
    assert _approve(live_app, mine, puppet).status_code == 403
    theirs = _held_broadcast(live_app, bearer(puppet))
    assert _approve(live_app, theirs, STAFF_TOKEN).status_code == 403
    sibling = _create_admin(live_app, BOOTSTRAP, "Sibling")  # same creator, same day
    assert _approve(live_app, theirs, sibling).status_code == 403
    _, paul = new_staff(live_app.engine, "Paul", role="admin", at=OLD)
    assert _approve(live_app, mine, paul).json()["status"] == "queued"


def _rolling_audience(engine, step: int) -> None:  # type: ignore[no-untyped-def]
    """Bresson keeps a core of 50 people; each step 90 newcomers arrive and the previous
    step's newcomers move away: each broadcast reaches 140, together they reach more."""
    if step > 1:
        with unit_of_work(engine) as session:
            session.execute(
                update(Beneficiary)
                .where(Beneficiary.phone.startswith(f"+3369{step - 1}"))  # type: ignore[union-attr]
                .values(commune_insee=ELSEWHERE)
            )
            session.commit()
    add_people(engine, 90, prefix=f"+3369{step}")


def test_small_overlapping_broadcasts_add_up_to_the_threshold(live_app: LiveApp) -> None:
    add_people(live_app.engine, 50, prefix="+33690")
    statuses, reaches = [], []
    for step in range(1, 7):
        _rolling_audience(live_app.engine, step)
        draft = live_app.client.post(
            "/staff/broadcasts",
            headers=BOOTSTRAP,
            json={"segment": f"commune:{BRESSON}", "message": f"Info {step}"},
        ).json()
        assert draft["preview"]["recipients"] == 140
        reaches.append(draft["preview"]["reach_24h"])
        confirmed = live_app.client.post(
            f"/staff/broadcasts/{draft['broadcast']['id']}/confirm", headers=BOOTSTRAP
        )
        statuses.append(confirmed.json()["status"])
    assert reaches == [140, 230, 320, 410, 500, 590]  # the threshold is 500
    assert statuses == ["queued"] * 5 + ["pending_approval"]


def test_a_cancelled_or_unrelated_broadcast_does_not_count(live_app: LiveApp) -> None:
    add_people(live_app.engine, 400)
    add_people(live_app.engine, 400, insee=ELSEWHERE, prefix="+33691")
    client = live_app.client
    first = client.post(
        "/staff/broadcasts", headers=BOOTSTRAP, json={"segment": "all", "message": "A"}
    ).json()["broadcast"]["id"]
    # 800 people: held; then cancelled, it no longer counts.
    assert client.post(f"/staff/broadcasts/{first}/confirm", headers=BOOTSTRAP).json()[
        "status"
    ] == ("pending_approval")
    client.post(f"/staff/broadcasts/{first}/cancel", headers=BOOTSTRAP)
    for insee in (BRESSON, ELSEWHERE):  # disjoint audiences do not add up
        draft = client.post(
            "/staff/broadcasts",
            headers=BOOTSTRAP,
            json={"segment": f"commune:{insee}", "message": "B"},
        ).json()
        assert draft["preview"]["reach_24h"] == 400 and not draft["preview"]["needs_approval"]
        confirmed = client.post(
            f"/staff/broadcasts/{draft['broadcast']['id']}/confirm", headers=BOOTSTRAP
        )
        assert confirmed.json()["status"] == "queued"


@pytest.fixture
def shell(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PASSNUM_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_the_command_line_applies_the_same_rules(shell: CliRunner, database_url: str) -> None:
    engine = create_db_engine(database_url)
    add_people(engine, 50, prefix="+33690")
    outputs = []
    for step in range(1, 7):
        _rolling_audience(engine, step)
        result = shell.invoke(
            app, ["broadcast", "--segment", f"commune:{BRESSON}", "--message", "Info", "--yes"]
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert all("140 messages queued" in out for out in outputs[:5])
    assert "waits for approval" in outputs[5] and "590 people" in outputs[5]
    added = shell.invoke(app, ["staff", "add", "Fresh", "--role", "admin"])
    fresh_id = added.output.split()[2]
    with unit_of_work(engine) as session:
        held = session.scalar(select(Broadcast.id).where(Broadcast.status == "pending_approval"))
    refused = shell.invoke(app, ["staff", "approve", str(held), "--as", fresh_id])
    assert refused.exit_code == 2 and "less than a day" in refused.output
    old_id, _ = new_staff(engine, "Paul", role="admin", at=OLD)
    approved = shell.invoke(app, ["staff", "approve", str(held), "--as", str(old_id)])
    assert approved.exit_code == 0 and "140 messages queued" in approved.output
    engine.dispose()
