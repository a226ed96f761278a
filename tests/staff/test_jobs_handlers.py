"""Scheduler jobs as commands (bot.staff.jobs): planning, voucher expiry and the retention
purge through the staff service as the scheduler, on both databases; staff who are not admins
are refused, and the refusal is audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.bootstrap import build_staff_service
from bot.staff.jobs import SCHEDULER, ExpireVouchers, PlanReminders, PurgeOldTexts
from config import Settings
from storage import outbox
from storage.booking import reserve_seat
from storage.db import unit_of_work
from storage.models import AuditEntry, OutboundMessage, Voucher
from storage.staff import StaffIdentity, StaffRefused
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)
ADVISOR = StaffIdentity(id=41, name="Nadia", role="advisor", place_ids=(1,))
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


def _audit(engine: Engine) -> list[tuple[str, str, str | None]]:
    with unit_of_work(engine) as session:
        return [(e.actor, e.action, e.detail) for e in session.scalars(select(AuditEntry))]


def _booked(engine: Engine, starts: datetime) -> None:
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot = factories.slot(session, place_id=place.id or 0, starts_at=starts)
        person = factories.beneficiary(session, phone="+33612345678")
        reserve_seat(
            session,
            beneficiary_id=person.id or 0,
            slot_id=slot.id or 0,
            now=MONDAY_9 - timedelta(days=3),
        )
        session.commit()


def test_planning_queues_reminders_once_and_leaves_no_audit_entry(engine: Engine) -> None:
    _booked(engine, MONDAY_9 + timedelta(days=2, hours=5))
    service = build_staff_service(engine, SETTINGS, clock=lambda: MONDAY_9)
    first = service.handle(SCHEDULER, PlanReminders())
    again = service.handle(SCHEDULER, PlanReminders())
    assert (first.j1, first.h2, again.j1, again.h2) == (1, 1, 0, 0)
    with unit_of_work(engine) as session:
        sent_at = {
            m.dedupe_key.split(":")[0]: m.next_attempt_at.astimezone(PARIS)
            for m in session.scalars(select(OutboundMessage))
        }
    assert sent_at == {
        "j1": datetime(2026, 12, 1, 10, 0, tzinfo=PARIS),
        "h2": datetime(2026, 12, 2, 12, 0, tzinfo=PARIS),
    }
    assert _audit(engine) == []


def test_expiry_and_purge_are_audited_when_they_change_something(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        factories.beneficiary(session, vouchers=2, expires_on=date(2026, 11, 29))
        outbox.enqueue(
            session,
            channel="sms",
            address="+33612345678",
            body="old",
            now=MONDAY_9 - timedelta(days=400),
        )
        session.commit()
    with unit_of_work(engine) as session:
        for message in session.scalars(select(OutboundMessage)):
            message.status = "sent"
        session.commit()
    service = build_staff_service(engine, SETTINGS, clock=lambda: MONDAY_9)
    assert service.handle(SCHEDULER, ExpireVouchers()) == 2
    assert service.handle(SCHEDULER, ExpireVouchers()) == 0
    assert service.handle(SCHEDULER, PurgeOldTexts()) == 1
    assert service.handle(SCHEDULER, PurgeOldTexts()) == 0
    with unit_of_work(engine) as session:
        assert {v.status for v in session.scalars(select(Voucher))} == {"expired"}
        assert session.scalars(select(OutboundMessage.body)).all() == [None]
    assert _audit(engine) == [
        ("scheduler", "jobs.expire_vouchers", "2"),
        ("scheduler", "jobs.purge_texts", "1"),
    ]


@pytest.mark.parametrize("command", [PlanReminders(), ExpireVouchers(), PurgeOldTexts()])
def test_only_admins_run_jobs(engine: Engine, command: object) -> None:
    service = build_staff_service(engine, SETTINGS, clock=lambda: MONDAY_9)
    with pytest.raises(StaffRefused) as refused:
        service.handle(ADVISOR, command)  # type: ignore[arg-type]  # any job command
    assert refused.value.kind == "forbidden"
    assert [(actor, action) for actor, action, _ in _audit(engine)] == [
        ("staff:41:Nadia", "refused.forbidden")
    ]
