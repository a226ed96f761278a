"""The people commands (`bot.staff.people`) through the real service, on both databases:
who may act on whom, what is written, what the audit log says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.bootstrap import build_staff_service
from bot.staff.people import (
    ChangePhone,
    IssueTelegramLink,
    PersonFile,
    RegisterBeneficiary,
    SearchPeople,
    UnlockBooklet,
)
from bot.staff.service import StaffService
from config import load_settings
from storage.db import unit_of_work
from storage.directory import link_token_hash
from storage.models import AuditEntry, Beneficiary, Booking, Booklet, OutboundMessage, Voucher
from storage.staff import CLI_ADMIN, StaffIdentity, StaffRefused
from tests import factories
from tests.staff.helpers import new_staff

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def _service(engine: Engine) -> StaffService:
    return build_staff_service(engine, load_settings(), clock=lambda: AT)


def _audit(engine: Engine) -> list[tuple[str, str, str | None, str | None]]:
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(
                AuditEntry.actor, AuditEntry.action, AuditEntry.record, AuditEntry.detail
            ).order_by(AuditEntry.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _rosa(**changes: object) -> RegisterBeneficiary:
    fields: dict[str, object] = {
        "first_name": " Rosa ",
        "phone": "06 22 33 44 55",
        "booklet_number": " PN-9001 ",
        "vouchers": 6,
        "expires_on": date(2099, 6, 30),
        "verification_code": "4321",
        "commune": "Échirolles",
    }
    return RegisterBeneficiary(**(fields | changes))  # type: ignore[arg-type]


def test_an_advisor_registers_acts_on_their_person_and_no_one_elses(engine: Engine) -> None:
    staff_id, _ = new_staff(engine, "Nadia", places=[99])
    advisor = StaffIdentity(id=staff_id, name="Nadia", role="advisor", place_ids=(99,))
    stranger = StaffIdentity(id=staff_id + 1, name="Other", role="advisor", place_ids=(98,))
    service = _service(engine)
    with unit_of_work(engine) as session:
        factories.topic(session)
        session.commit()
    person = service.handle(advisor, _rosa())
    assert (person.first_name, person.phone, person.commune_insee) == (
        "Rosa",
        "+33622334455",
        "38151",
    )
    assert person.registered_by == staff_id
    with pytest.raises(StaffRefused, match="already exists: PN-9001") as known:
        service.handle(advisor, _rosa(phone="0622334456", booklet_number="pn 9001"))
    assert known.value.kind == "conflict"
    with pytest.raises(StaffRefused, match="language: fr or en"):
        service.handle(advisor, _rosa(booklet_number="PN-9002", language="de"))

    pid = person.id or 0
    changed = service.handle(advisor, ChangePhone(beneficiary_id=pid, phone="0033 7 81 22 33 44"))
    assert changed.phone == "+33781223344"
    link = service.handle(advisor, IssueTelegramLink(beneficiary_id=pid, bot_username="desk_bot"))
    token = link.removeprefix("https://t.me/desk_bot?start=")
    found = service.handle(advisor, PersonFile(beneficiary_id=pid))
    assert found.person.telegram_link_token == link_token_hash(token) != token
    assert found.booklets == ["PN-9001"] and found.balance.available == 6
    assert [hit.id for hit in service.handle(advisor, SearchPeople(text="ros"))] == [pid]

    for command in (
        PersonFile(beneficiary_id=pid),
        ChangePhone(beneficiary_id=pid, phone="0781223345"),
        IssueTelegramLink(beneficiary_id=pid, bot_username="desk_bot"),
    ):
        with pytest.raises(StaffRefused, match=f"^no beneficiary {pid}$") as hidden:
            service.handle(stranger, command, origin="test")
        assert hidden.value.kind == "not_authorised"
    assert service.handle(stranger, SearchPeople(text="ros")) == []

    record = f"beneficiary:{pid}"
    nadia, other = f"staff:{staff_id}:Nadia", f"staff:{staff_id + 1}:Other"
    assert _audit(engine)[-9:] == [
        (nadia, "beneficiary.register", record, "booklet PN-9001"),
        (
            nadia,
            "refused.conflict",
            "RegisterBeneficiary",
            "booklet number already exists: PN-9001",
        ),
        (nadia, "refused.invalid", "RegisterBeneficiary", "language: fr or en"),
        (nadia, "beneficiary.change_phone", record, None),
        (nadia, "beneficiary.telegram_link", record, None),
        (nadia, "beneficiary.view", record, None),
        *[(other, "refused.not_authorised", "test", f"no beneficiary {pid}")] * 3,
    ]
    with unit_of_work(engine) as session:  # the old number is told of the change
        told = session.scalars(select(OutboundMessage.address)).all()
    assert told == ["+33622334455"]


def test_an_advisor_sees_the_people_booked_at_their_places(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot = factories.slot(session, place_id=place.id or 0)
        booked = factories.beneficiary(session, phone="+33611111111")
        factories.beneficiary(session, phone="+33611111112")
        voucher = session.scalars(
            select(Voucher.id).join(Booklet).where(Booklet.beneficiary_id == booked.id)
        ).first()
        session.add(
            Booking(
                slot_id=slot.id or 0,
                beneficiary_id=booked.id or 0,
                voucher_id=voucher or 0,
                created_at=AT,
                updated_at=AT,
            )
        )
        session.commit()
        place_id, booked_id = place.id or 0, booked.id or 0
    advisor = StaffIdentity(id=7, name="Nadia", role="advisor", place_ids=(place_id,))
    service = _service(engine)
    assert [hit.id for hit in service.handle(advisor, SearchPeople(text="personne"))] == [booked_id]
    assert len(service.handle(CLI_ADMIN, SearchPeople(text="personne"))) == 2
    assert service.handle(advisor, SearchPeople(text="  ")) == []
    found = service.handle(advisor, PersonFile(beneficiary_id=booked_id))
    assert [row["place"] for row in found.bookings] == [place.name]


def test_only_an_admin_unlocks_a_booklet(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session)
        booklet = session.scalars(select(Booklet).where(Booklet.beneficiary_id == person.id)).one()
        booklet.locked_at, booklet.failed_codes = AT - timedelta(hours=1), 10
        session.commit()
        number, booklet_id = booklet.number, booklet.id
    advisor = StaffIdentity(id=7, name="Nadia", role="advisor", place_ids=(1,))
    service = _service(engine)
    with pytest.raises(StaffRefused, match="only an admin may unlock a booklet"):
        service.handle(advisor, UnlockBooklet(number=number))
    unlocked = service.handle(CLI_ADMIN, UnlockBooklet(number=number.lower()))
    assert (unlocked.locked_at, unlocked.failed_codes) == (None, 0)
    service.handle(CLI_ADMIN, UnlockBooklet(number=number))
    with pytest.raises(StaffRefused, match="no booklet PN-NONE") as unknown:
        service.handle(CLI_ADMIN, UnlockBooklet(number="pn-none"))
    assert unknown.value.kind == "not_found"
    assert [(actor, action, detail) for actor, action, _, detail in _audit(engine)] == [
        ("staff:7:Nadia", "refused.forbidden", "only an admin may unlock a booklet"),
        ("cli", "booklet.unlock", "was locked"),
        ("cli", "booklet.unlock", "was not locked"),
        ("cli", "refused.not_found", "no booklet PN-NONE"),
    ]
    assert _audit(engine)[1][2] == f"booklet:{booklet_id}"
    with unit_of_work(engine) as session:
        assert session.get(Beneficiary, person.id) is not None
