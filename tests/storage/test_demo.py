"""The demo data set: idempotent, fresh relative to `now`, with the documented people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import select

from config.reference import topics
from storage.db import unit_of_work
from storage.demo import DemoSummary, load_demo
from storage.models import Beneficiary, Booklet, Place, Slot, Voucher

NOW = datetime(2030, 3, 6, 10, 0, tzinfo=UTC)  # a Wednesday
PARIS = ZoneInfo("Europe/Paris")


def run(engine: Engine, now: datetime = NOW) -> DemoSummary:
    with unit_of_work(engine) as session:
        summary = load_demo(session, now)
        session.commit()
    return summary


def fetch(engine: Engine, model: Any, *where: Any) -> list[Any]:
    with unit_of_work(engine) as session:
        rows = list(session.exec(select(model).where(*where)).all())
        session.expunge_all()
    return rows


def test_demo_twice_changes_nothing(engine: Engine) -> None:
    first = run(engine)
    second = run(engine)

    assert (first.topics, first.places, first.beneficiaries) == (8, 15, 20)
    assert first.created > 0 and second.created == 0
    assert (first.places, first.slots, first.beneficiaries, first.vouchers) == (
        second.places,
        second.slots,
        second.beneficiaries,
        second.vouchers,
    )
    assert len(fetch(engine, Slot)) == first.slots


def test_demo_people(engine: Engine) -> None:
    run(engine)
    booklets = {b.number: b for b in fetch(engine, Booklet)}
    people = {p.id: p for p in fetch(engine, Beneficiary)}
    vouchers = fetch(engine, Voucher)

    first = booklets["PN-0001"]
    assert (people[first.beneficiary_id].phone, first.verification_code) == ("+33612345678", "1234")
    used = [v.status for v in vouchers if v.booklet_id == booklets["PN-0002"].id]
    assert used and set(used) == {"redeemed"}
    assert any(person.language == "en" for person in people.values())
    counts = [sum(v.booklet_id == b.id for v in vouchers) for b in booklets.values()]
    assert min(counts) >= 5 and max(counts) <= 10
    assert all(v.expires_on > NOW.date() + timedelta(days=60) for v in vouchers)


def test_demo_places_and_slots(engine: Engine) -> None:
    run(engine)
    places = fetch(engine, Place)
    slots = fetch(engine, Slot)

    communes = [place.commune for place in places]
    assert "Échirolles" in communes and "Saint-Martin-d'Hères" in communes
    assert communes.count("Grenoble") >= 3
    assert all(place.phone and place.phone.startswith("04 ") for place in places)
    assert {slot.topic for slot in slots} == {info.key for info in topics()}
    for slot in slots:
        start, end = slot.starts_at.astimezone(PARIS), slot.ends_at.astimezone(PARIS)
        assert start.weekday() < 5 and start.hour >= 9 and (end.hour, end.minute) <= (17, 0)
        assert NOW < slot.starts_at < NOW + timedelta(days=29)
        assert 4 <= slot.capacity <= 10


def test_a_later_run_adds_new_days_only(engine: Engine) -> None:
    first = run(engine)
    later = run(engine, NOW + timedelta(days=7))

    ids = [slot.external_id for slot in fetch(engine, Slot)]
    assert len(ids) == len(set(ids)) == later.slots
    assert later.slots > first.slots
    assert later.created == later.slots - first.slots
