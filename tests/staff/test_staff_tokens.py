"""Staff tokens expire, can be revoked (API and command line, audited) and renewed; a weak
bootstrap token stops the server at startup. Real HTTP on the live app, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.cli.main import app
from config import SettingsError, load_settings
from storage.db import unit_of_work
from storage.models import AuditEntry, Staff
from storage.staff import fresh_token
from tests.e2e.conftest import STAFF_TOKEN, LiveApp
from tests.staff.helpers import NOW, bearer, new_staff

ADMIN = bearer(STAFF_TOKEN)


def _issued(live_app: LiveApp, staff_id: int, days_ago: int) -> None:
    with unit_of_work(live_app.engine) as session:
        session.execute(
            update(Staff)
            .where(Staff.id == staff_id)
            .values(token_issued_at=NOW - timedelta(days=days_ago))
        )
        session.commit()


def _audit(live_app: LiveApp, action: str) -> list[tuple[str, str | None, str | None]]:
    with unit_of_work(live_app.engine) as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.record, AuditEntry.detail)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_token_older_than_the_ttl_is_refused_with_a_clear_401(live_app: LiveApp) -> None:
    old_id, old = new_staff(live_app.engine, "Old")
    recent_id, recent = new_staff(live_app.engine, "Recent")
    _issued(live_app, old_id, 91)
    _issued(live_app, recent_id, 89)
    refused = live_app.client.get("/staff/me", headers=bearer(old))
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"] and "90 days" in refused.json()["detail"]
    assert live_app.client.get("/staff/me", headers=bearer(recent)).status_code == 200
    assert _audit(live_app, "staff_auth_refused") == [
        (f"staff:{old_id}:Old", "/staff/me", "expired token")
    ]


def test_an_admin_revokes_a_token_through_the_api(live_app: LiveApp) -> None:
    nadia_id, nadia = new_staff(live_app.engine, "Nadia", places=[1])
    _, advisor = new_staff(live_app.engine, "Other", places=[1])
    client = live_app.client
    assert client.post(
        f"/staff/members/{nadia_id}/revoke", headers=bearer(advisor)
    ).status_code == (403)
    done = client.post(f"/staff/members/{nadia_id}/revoke", headers=ADMIN)
    assert done.status_code == 200 and done.json()["name"] == "Nadia"
    refused = client.get("/staff/me", headers=bearer(nadia))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert client.post(f"/staff/members/{nadia_id}/revoke", headers=ADMIN).status_code == 409
    assert _audit(live_app, "staff.revoke") == [("bootstrap-admin", f"staff:{nadia_id}", None)]
    assert ("revoked token") in [d for _, _, d in _audit(live_app, "staff_auth_refused")]


def test_the_command_line_revokes_by_token_or_name(
    live_app: LiveApp, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSNUM_DATABASE_URL", database_url)
    monkeypatch.setenv("PASSNUM_STAFF_TOKEN", STAFF_TOKEN)
    _, paul = new_staff(live_app.engine, "Paul")
    _, lea = new_staff(live_app.engine, "Léa")
    runner = CliRunner()
    by_token = runner.invoke(app, ["staff", "revoke", paul])
    assert by_token.exit_code == 0 and "Paul" in by_token.output, by_token.output
    by_name = runner.invoke(app, ["staff", "revoke", "léa"])
    assert by_name.exit_code == 0 and "revoked" in by_name.output
    for token in (paul, lea):
        answer = live_app.client.get("/staff/me", headers=bearer(token))
        assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    unknown = runner.invoke(app, ["staff", "revoke", "Nobody"])
    assert unknown.exit_code == 2 and "no staff member" in unknown.output
    bootstrap = runner.invoke(app, ["staff", "revoke", STAFF_TOKEN])
    assert bootstrap.exit_code == 2 and "PASSNUM_STAFF_TOKEN" in bootstrap.output
    assert [actor for actor, _, _ in _audit(live_app, "staff.revoke")] == ["cli", "cli"]
    renewed = runner.invoke(app, ["staff", "new-token", "Paul"])
    assert renewed.exit_code == 0, renewed.output
    fresh = renewed.output.strip().splitlines()[-1]
    assert live_app.client.get("/staff/me", headers=bearer(fresh)).json()["name"] == "Paul"
    assert live_app.client.get("/staff/me", headers=bearer(paul)).status_code == 401


def test_no_token_starts_with_a_dash_so_it_pastes_after_a_command() -> None:
    # One token in 64 would start with "-" if drawn straight from token_urlsafe, and the
    # command line would read it as an option ("No such option: -O").
    tokens = [fresh_token() for _ in range(3000)]
    assert not [token for token in tokens if token.startswith("-")]
    assert len(set(tokens)) == len(tokens) and all(len(token) >= 43 for token in tokens)


def test_a_member_renews_their_own_token(live_app: LiveApp) -> None:
    staff_id, token = new_staff(live_app.engine, "Nadia")
    _issued(live_app, staff_id, 80)
    renewed = live_app.client.post("/staff/me/token", headers=bearer(token))
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()["token"]
    assert live_app.client.get("/staff/me", headers=bearer(fresh)).status_code == 200
    assert live_app.client.get("/staff/me", headers=bearer(token)).status_code == 401
    assert live_app.client.post("/staff/me/token", headers=ADMIN).status_code == 422


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("short-but-random-Xy7", "too short"),
        ("changeme-changeme-changeme-changeme", "placeholder"),
        ("my-super-secret-staff-token-for-prod", "placeholder"),
        ("a" * 40, "too repetitive"),
        ("ab12" * 10, "too repetitive"),
    ],
)
def test_a_weak_bootstrap_token_is_refused(token: str, why: str) -> None:
    with pytest.raises(SettingsError) as problem:
        load_settings(staff_token=token)
    message = str(problem.value)
    assert message.startswith("PASSNUM_STAFF_TOKEN: ") and why in message
    assert "\n" not in message and token not in message


def test_the_server_does_not_start_with_a_weak_bootstrap_token(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSNUM_")}
    env |= {"PASSNUM_STAFF_TOKEN": "changeme", "PASSNUM_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PASSNUM_STAFF_TOKEN: too short" in lines[0]
    assert load_settings(staff_token=STAFF_TOKEN).staff_token == STAFF_TOKEN


def test_a_revoked_members_telegram_chat_is_no_longer_staff(live_app: LiveApp) -> None:
    from tests.staff.test_telegram_staff import STAFF_CHAT, _command, _link

    staff_id, _ = new_staff(live_app.engine, "Nadia", role="admin")
    assert "Nadia" in _command(live_app, STAFF_CHAT, f"/start {_link(live_app, staff_id)}")
    assert "vouchers issued" in _command(live_app, STAFF_CHAT, "/stats")
    assert live_app.client.post(f"/staff/members/{staff_id}/revoke", headers=ADMIN).is_success
    assert "vouchers issued" not in _command(live_app, STAFF_CHAT, "/stats")
    refused = _command(live_app, STAFF_CHAT, f"/start {_link(live_app, staff_id)}")
    assert "pas valable" in refused
