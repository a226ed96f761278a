"""GDPR through the staff API: an admin exports and erases; an advisor may not."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.models import AuditEntry, Beneficiary
from storage.staff import create_staff
from tests.e2e.conftest import STAFF_TOKEN, LiveApp


def _demo_person(app: LiveApp) -> int:
    with Session(app.engine) as session:
        return int(
            session.scalar(select(Beneficiary.id).where(Beneficiary.phone == "+33612345678"))
        )


def test_admin_exports_then_erases_a_beneficiary(live_app: LiveApp) -> None:
    live_app.sms("MENU")
    person = _demo_person(live_app)
    admin = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    exported = live_app.client.get(f"/staff/privacy/{person}/export", headers=admin)
    assert exported.status_code == 200
    assert exported.json()["beneficiary"]["phone"] == "+33612345678"
    assert exported.json()["messages_received"][0]["body"] == "MENU"

    erased = live_app.client.post(f"/staff/privacy/{person}/erase", headers=admin)
    assert erased.status_code == 204
    after = live_app.client.get(f"/staff/privacy/{person}/export", headers=admin).json()
    assert after["beneficiary"]["phone"] is None
    assert "+33612345678" not in str(after)
    # the number is now a stranger: it is asked for a booklet, nothing about the old one
    assert "Aïcha" not in live_app.sms("MENU").text


def test_advisor_cannot_export_and_the_refusal_is_audited(live_app: LiveApp) -> None:
    with Session(live_app.engine) as session:
        _, token = create_staff(
            session, name="Conseillère", role="advisor", place_ids=[1], now=datetime.now(UTC)
        )
        session.commit()
    person = _demo_person(live_app)
    answer = live_app.client.get(
        f"/staff/privacy/{person}/export", headers={"Authorization": f"Bearer {token}"}
    )
    nobody = live_app.client.get(f"/staff/privacy/{person}/export")
    assert answer.status_code == 403
    assert nobody.status_code == 401
    with Session(live_app.engine) as session:
        actions = set(session.scalars(select(AuditEntry.action)).all())
    assert {"refused.forbidden", "staff_auth_refused"} <= actions
