"""The staff service itself: one handler per command, refusals audited in their own
transaction, reads in a read-only one — on both databases, through the real wiring."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

import bot.staff
from bot.bootstrap import build_staff_service, staff_handlers
from bot.staff import Command
from bot.staff.privacy import ErasePerson, ExportPerson, WhatErasureRemoves
from config import load_settings
from storage.db import unit_of_work
from storage.models import AuditEntry, Beneficiary
from storage.staff import CLI_ADMIN, StaffIdentity, StaffRefused
from tests import factories

ADVISOR = StaffIdentity(id=41, name="Nadia", role="advisor", place_ids=(1,))
AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def _every_command() -> list[type]:
    found = []
    for module in pkgutil.iter_modules(bot.staff.__path__, "bot.staff."):
        for _, member in inspect.getmembers(importlib.import_module(module.name)):
            if inspect.isclass(member) and issubclass(member, Command) and member is not Command:
                found.append(member)
    return found


def test_every_command_has_exactly_one_handler() -> None:
    handlers = staff_handlers()
    commands = _every_command()
    assert commands, "no command found in bot.staff"
    assert sorted(c.__name__ for c in commands) == sorted(c.__name__ for c in handlers)
    for command in commands:
        assert dataclasses.is_dataclass(command), f"{command.__name__} is not a dataclass"
        assert command.__dataclass_params__.frozen, f"{command.__name__} is not frozen"  # type: ignore[attr-defined]  # dataclass internals


def _person(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session, phone="+33612345678")
        session.commit()
        return person.id or 0


def _audit(engine: Engine) -> list[tuple[str, str, str | None, datetime]]:
    with unit_of_work(engine) as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.id))  # type: ignore[arg-type]  # SQLModel column typing
        return [(e.actor, e.action, e.record, e.at) for e in entries]


def test_a_refusal_rolls_back_and_is_audited_with_its_origin(engine: Engine) -> None:
    person = _person(engine)
    service = build_staff_service(engine, load_settings(), clock=lambda: AT)
    with pytest.raises(StaffRefused) as refused:
        service.handle(ADVISOR, ErasePerson(beneficiary_id=person), origin="POST /x")
    assert refused.value.kind == "forbidden"
    [(actor, action, record, at)] = _audit(engine)
    assert (actor, action, record) == ("staff:41:Nadia", "refused.forbidden", "POST /x")
    assert at.replace(tzinfo=UTC) == AT
    with unit_of_work(engine) as session:
        assert session.get(Beneficiary, person).erased_at is None  # type: ignore[union-attr]  # the row exists


def test_a_command_commits_its_work_and_its_audit_entry(engine: Engine) -> None:
    person = _person(engine)
    service = build_staff_service(engine, load_settings(), clock=lambda: AT)
    data = service.handle(CLI_ADMIN, ExportPerson(beneficiary_id=person))
    assert data["beneficiary"]["phone"] == "+33612345678"
    impact = service.handle(CLI_ADMIN, WhatErasureRemoves(beneficiary_id=person))
    assert (impact.booklets, impact.already_erased) == (1, False)
    service.handle(CLI_ADMIN, ErasePerson(beneficiary_id=person))
    actions = [action for _, action, _, _ in _audit(engine)]
    assert "privacy_export" in actions
    with unit_of_work(engine) as session:
        assert session.get(Beneficiary, person).erased_at is not None  # type: ignore[union-attr]  # the row exists


def test_an_unknown_person_is_not_found_without_origin_the_command_names_itself(
    engine: Engine,
) -> None:
    service = build_staff_service(engine, load_settings(), clock=lambda: AT)
    with pytest.raises(StaffRefused) as refused:
        service.handle(CLI_ADMIN, ExportPerson(beneficiary_id=999))
    assert refused.value.kind == "not_found"
    assert [(action, record) for _, action, record, _ in _audit(engine)] == [
        ("refused.not_found", "ExportPerson")
    ]


def test_the_architecture_page_lists_every_command() -> None:
    page = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    missing = [c.__name__ for c in staff_handlers() if f" {c.__name__}" not in page]
    assert missing == [], f"docs/architecture.md does not list {missing}"
