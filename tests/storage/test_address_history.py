"""Every address a person held stays in their history (for erasure), whichever way it
changed; the migration fills it from today's addresses and renames old audit actors."""

from __future__ import annotations

import json

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import Session

from storage.address_history import addresses_ever_held, holders_of
from storage.beneficiaries_admin import change_phone
from storage.conversations import record_inbound
from storage.db import create_db_engine, unit_of_work
from storage.identity import link_address
from storage.imports import import_beneficiaries
from storage.migrate import alembic_config
from storage.opt_outs import address_opted_out, record_address_opt_out
from storage.privacy import erase_beneficiary, export_beneficiary
from tests import factories
from tests.factories import NOW

FIRST, SECOND, THIRD = "+33611000001", "+33611000002", "+33611000003"


def test_each_way_of_changing_an_address_keeps_the_old_one(engine) -> None:
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session, phone=FIRST)
        other = factories.beneficiary(session, phone=THIRD)
        pid, oid = int(person.id), int(other.id)  # type: ignore[arg-type]
        change_phone(session, beneficiary_id=pid, phone=SECOND, now=NOW)
        link_address(session, beneficiary_id=pid, channel="telegram", address="tg:555", now=NOW)
        # the booklet code typed from another person's phone moves that phone to this one
        link_address(session, beneficiary_id=pid, channel="sms", address=THIRD, now=NOW)
        session.commit()
        assert addresses_ever_held(session, beneficiary_id=pid) == [FIRST, SECOND, THIRD, "tg:555"]
        assert addresses_ever_held(session, beneficiary_id=oid) == [THIRD]
        assert holders_of(session, address=THIRD) == sorted([pid, oid])


def test_an_import_that_changes_a_phone_keeps_the_old_one(engine) -> None:
    header = "booklet_number;first_name;phone;vouchers;expires_on;verification_code"
    with unit_of_work(engine) as session:
        import_beneficiaries(session, [header, f"PN-H1;Lina;{FIRST};2;2030-01-31;11"], now=NOW)
        import_beneficiaries(session, [header, f"PN-H1;Lina;{SECOND};2;2030-01-31;11"], now=NOW)
        session.commit()
        (person,) = holders_of(session, address=FIRST)
        assert addresses_ever_held(session, beneficiary_id=person) == [FIRST, SECOND]


def test_migration_fills_history_and_renames_audit_actors(database_url: str) -> None:
    engine = create_db_engine(database_url)
    config = alembic_config(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, _before("0010"))
    with Session(engine) as session:
        # plain SQL: the models describe the head schema, not this older one
        pid = session.execute(
            text(
                "INSERT INTO beneficiary (first_name, phone, language, reminders_enabled,"
                " opted_out, telegram_unreachable, created_at)"
                " VALUES ('Lina', :phone, 'fr', true, false, false, :at) RETURNING id"
            ),
            {"phone": FIRST, "at": NOW},
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO auditentry (actor, action, record, at) VALUES "
                f"('sms:{FIRST}', 'link_address', 'beneficiary:{pid}', :at), "
                "('telegram:4242', 'refused.not_staff', NULL, :at), "
                "('staff:1:Nadia', 'refused.forbidden', 'telegram:4242', :at)"
            ),
            {"at": NOW},
        )
        session.commit()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with engine.connect() as connection:
        audit = connection.execute(text("SELECT actor, record FROM auditentry ORDER BY id")).all()
        history = connection.execute(text("SELECT beneficiary_id, address FROM addresshistory"))
        assert list(history) == [(pid, FIRST)]
    engine.dispose()
    assert [tuple(row) for row in audit] == [
        (f"beneficiary:{pid}", f"beneficiary:{pid}"),
        ("telegram:unidentified", None),
        ("staff:1:Nadia", None),
    ]


def test_an_old_number_now_someone_elses_is_not_in_the_export_and_keeps_its_stop(engine) -> None:
    with unit_of_work(engine) as session:
        first = factories.beneficiary(session, phone=FIRST)
        second = factories.beneficiary(session, phone=None)
        fid, sid = int(first.id), int(second.id)  # type: ignore[arg-type]
        link_address(session, beneficiary_id=sid, channel="sms", address=FIRST, now=NOW)
        record_inbound(
            session, channel="sms", provider_id="SMb", address=FIRST, body="from B", now=NOW
        )
        record_address_opt_out(session, channel="sms", address=FIRST, now=NOW)
        assert "from B" not in json.dumps(export_beneficiary(session, beneficiary_id=fid))
        assert "from B" in json.dumps(export_beneficiary(session, beneficiary_id=sid))
        erase_beneficiary(session, beneficiary_id=fid, actor="test", now=NOW)
        session.commit()
        assert address_opted_out(session, address=FIRST)  # B's STOP stays


def _before(revision: str) -> str:
    """The revision a migration follows (the chain may grow after it)."""
    down = ScriptDirectory.from_config(alembic_config()).get_revision(revision).down_revision
    assert isinstance(down, str)
    return down
