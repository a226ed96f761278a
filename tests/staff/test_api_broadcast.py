"""Broadcasts end to end: the staff API on the live app, the dispatcher, fake Twilio."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from bot.outbox import quiet_hours
from bot.outbox.channel_providers import build_providers
from bot.outbox.dispatcher import Dispatcher
from storage.db import unit_of_work
from storage.models import AuditEntry, OutboundMessage
from tests.e2e.conftest import STAFF_TOKEN, LiveApp
from tests.staff.helpers import FAST, NOW, add_people, bearer, new_staff

ADMIN = bearer(STAFF_TOKEN)
MESSAGE = "Réunion d’information à l’espace numérique — venez nombreux !"


def _evening(live_app: LiveApp) -> datetime:
    """22:00 local on the next open day (a weekday that is not a holiday)."""
    tz = live_app.settings.tz
    day = NOW.astimezone(tz).date() + timedelta(days=1)
    while quiet_hours.is_closed_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(22, 0), tz)


def _dispatch(live_app: LiveApp, now: datetime) -> int:
    providers = build_providers(live_app.settings)
    dispatcher = Dispatcher(live_app.engine, providers, live_app.settings, config=FAST)
    return asyncio.run(dispatcher.dispatch_due(now)).sent


def test_preview_counts_recipients_segments_and_cost(live_app: LiveApp) -> None:
    add_people(live_app.engine, 300, opted_out_every=10)
    answer = live_app.client.post(
        "/staff/broadcasts/preview",
        headers=ADMIN,
        json={"segment": "commune:Bresson", "message": MESSAGE},
    )
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["recipients"] == 270 and seen["by_channel"] == {"sms": 270, "telegram": 0}
    assert seen["sms_text"] == "Réunion d'information à l'espace numérique - venez nombreux !"
    assert seen["sms_segments"] == 1 and seen["estimated_cost_eur"] == round(270 * 0.07, 2)
    assert seen["telegram_text"] == MESSAGE and not seen["needs_approval"]


def test_large_broadcast_is_approved_then_delivered_once_each_outside_quiet_hours(
    live_app: LiveApp,
) -> None:
    phones = add_people(live_app.engine, 2100, opted_out_every=21)
    assert len(phones) == 2000
    client = live_app.client
    draft = client.post(
        "/staff/broadcasts", headers=ADMIN, json={"segment": "commune:38057", "message": MESSAGE}
    ).json()
    assert draft["preview"]["recipients"] == 2000 and draft["preview"]["needs_approval"]
    broadcast_id = draft["broadcast"]["id"]
    held = client.post(f"/staff/broadcasts/{broadcast_id}/confirm", headers=ADMIN).json()
    assert held["status"] == "pending_approval" and held["counts"] == {}
    refused = client.post(f"/staff/broadcasts/{broadcast_id}/approve", headers=ADMIN)
    assert refused.status_code == 403 and "someone else" in refused.json()["detail"]
    _, second = new_staff(live_app.engine, "Second", role="admin", at=NOW - timedelta(days=2))
    queued = client.post(f"/staff/broadcasts/{broadcast_id}/approve", headers=bearer(second))
    assert queued.json()["status"] == "queued" and queued.json()["counts"] == {"queued": 2000}

    evening = _evening(live_app)
    assert _dispatch(live_app, evening) == 0 and live_app.twilio.sent == []
    morning = quiet_hours.next_allowed(evening, live_app.settings)
    assert morning.astimezone(live_app.settings.tz).time() == time(8, 0)
    assert _dispatch(live_app, morning) == 2000
    assert _dispatch(live_app, morning + timedelta(minutes=5)) == 0
    sent_to = [message["To"] for message in live_app.twilio.sent]
    assert len(sent_to) == 2000 and set(sent_to) == set(phones)
    assert {m["Body"] for m in live_app.twilio.sent} == {
        "Réunion d'information à l'espace numérique - venez nombreux !"
    }
    report = client.get(f"/staff/broadcasts/{broadcast_id}", headers=ADMIN).json()
    assert report["counts"] == {"sent": 2000} and report["finished"]


def test_cancel_stops_what_is_not_sent(live_app: LiveApp) -> None:
    add_people(live_app.engine, 40)
    client = live_app.client
    draft = client.post(
        "/staff/broadcasts",
        headers=ADMIN,
        json={"segment": "commune:38057", "message": "Fermé demain", "send_at": "2099-01-05T10:00"},
    )
    broadcast_id = draft.json()["broadcast"]["id"]
    assert client.post(f"/staff/broadcasts/{broadcast_id}/confirm", headers=ADMIN).json()[
        "counts"
    ] == {"queued": 40}
    cancelled = client.post(f"/staff/broadcasts/{broadcast_id}/cancel", headers=ADMIN).json()
    assert cancelled["status"] == "cancelled" and cancelled["counts"] == {"cancelled": 40}
    again = client.post(f"/staff/broadcasts/{broadcast_id}/cancel", headers=ADMIN)
    assert again.status_code == 409


def test_missing_or_wrong_token_is_refused_and_audited(live_app: LiveApp) -> None:
    client = live_app.client
    assert client.get("/staff/stats").status_code == 401
    assert (
        client.post(
            "/staff/broadcasts/preview",
            headers=bearer("nope"),
            json={"segment": "all", "message": "x"},
        ).status_code
        == 401
    )
    with unit_of_work(live_app.engine) as session:
        details = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "staff_auth_refused")
        ).all()
    assert sorted(details) == ["no token", "wrong token"]


def test_bad_requests_get_clear_messages(live_app: LiveApp) -> None:
    client = live_app.client
    bad = client.post(
        "/staff/broadcasts/preview", headers=ADMIN, json={"segment": "everyone", "message": "x"}
    )
    assert bad.status_code == 422 and "use all, unused, slot:ID" in bad.json()["detail"]
    assert client.get("/staff/broadcasts/999", headers=ADMIN).status_code == 404
    missing = client.post("/staff/slots", headers=ADMIN, json={"place_id": 1})
    assert missing.status_code == 422
    assert "/staff/broadcasts/{broadcast_id}/approve" in client.get("/openapi.json").json()["paths"]


def test_the_audit_log_names_who_did_what(live_app: LiveApp) -> None:
    add_people(live_app.engine, 3)
    draft = live_app.client.post(
        "/staff/broadcasts", headers=ADMIN, json={"segment": "commune:38057", "message": "Bonjour"}
    ).json()
    with unit_of_work(live_app.engine) as session:
        actor, record = session.execute(
            select(AuditEntry.actor, AuditEntry.record).where(
                AuditEntry.action == "broadcast.create"
            )
        ).one()
        queued = session.scalar(select(func.count()).select_from(OutboundMessage))
    assert (actor, record) == ("bootstrap-admin", f"broadcast:{draft['broadcast']['id']}")
    assert queued == 0  # a draft queues nothing
