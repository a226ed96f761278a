"""Nearest-slot search and the flows' lookups, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from bot.outbox.notices import notice_composer
from config import load_settings
from storage.booking import reserve_seat
from storage.db import unit_of_work
from storage.directory import DatabaseDirectory
from storage.geo import default_resolver
from storage.models import Booklet
from storage.search import nearest_slots
from tests import factories
from tests.factories import NOW

GRENOBLE = (45.1885, 5.7245)
ECHIROLLES = (45.1435, 5.7175)  # ~5 km south


def _seed(session: Session) -> dict[str, int]:
    near = factories.place(session, lat=GRENOBLE[0], lon=GRENOBLE[1])
    far = factories.place(session, lat=ECHIROLLES[0], lon=ECHIROLLES[1])
    ids = {
        "near_late": factories.slot(
            session, place_id=near.id, starts_at=NOW + timedelta(days=3)
        ).id,
        "near_soon": factories.slot(
            session, place_id=near.id, starts_at=NOW + timedelta(days=1)
        ).id,
        "near_in_30_min": factories.slot(
            session, place_id=near.id, starts_at=NOW + timedelta(minutes=30)
        ).id,
        "near_full": factories.slot(
            session, place_id=near.id, capacity=0, starts_at=NOW + timedelta(hours=5)
        ).id,
        "near_visio": factories.slot(
            session, place_id=near.id, topic_key="visio", starts_at=NOW + timedelta(days=2)
        ).id,
        "far_first": factories.slot(
            session, place_id=far.id, starts_at=NOW + timedelta(hours=2)
        ).id,
    }
    session.commit()
    return ids


def test_sorted_by_distance_then_start_skipping_full_and_imminent(engine) -> None:
    with unit_of_work(engine) as session:
        ids = _seed(session)
        found = nearest_slots(
            session, latitude=GRENOBLE[0], longitude=GRENOBLE[1], now=NOW, limit=10
        )
    assert [s.id for s in found] == [
        ids["near_soon"],
        ids["near_visio"],
        ids["near_late"],
        ids["far_first"],
    ]
    assert found[0].distance_km == 0.0
    assert 4.5 < (found[-1].distance_km or 0) < 5.5


def test_topic_filter_and_paging(engine) -> None:
    with unit_of_work(engine) as session:
        ids = _seed(session)
        visio = nearest_slots(
            session, latitude=GRENOBLE[0], longitude=GRENOBLE[1], now=NOW, topic="visio"
        )
        second_page = nearest_slots(
            session, latitude=GRENOBLE[0], longitude=GRENOBLE[1], now=NOW, offset=3, limit=3
        )
    assert [s.id for s in visio] == [ids["near_visio"]]
    assert [s.id for s in second_page] == [ids["far_first"]]


def test_nothing_beyond_the_search_radius(engine) -> None:
    with unit_of_work(engine) as session:
        _seed(session)
        paris = nearest_slots(session, latitude=48.8566, longitude=2.3522, now=NOW)
    assert paris == []


def test_booklet_number_is_matched_whatever_its_spacing(engine) -> None:
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session)
        session.commit()
        directory = DatabaseDirectory(
            session, resolver=default_resolver(), now=NOW, notices=notice_composer(load_settings())
        )
        booklet = session.scalar(select(Booklet.number).where(Booklet.beneficiary_id == person.id))
        assert directory.find_booklet(booklet.lower().replace("-", " "), "1234").id == person.id
        assert directory.find_booklet(booklet.replace("-", ""), " 1234 ").id == person.id
        assert directory.find_booklet(booklet, "9999") is None
        assert directory.find_booklet("PN-NOPE", "1234") is None


def test_balance_counts_available_and_reserved(engine) -> None:
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot_id = factories.slot(session, place_id=place.id).id
        person = factories.beneficiary(session, vouchers=3)
        reserve_seat(session, beneficiary_id=person.id, slot_id=slot_id, now=NOW)
        session.commit()
        directory = DatabaseDirectory(
            session, resolver=default_resolver(), now=NOW, notices=notice_composer(load_settings())
        )
        balance = directory.balance(person.id)
        bookings = directory.bookings(person.id)
    assert (balance.available, balance.reserved, balance.value_cents) == (2, 1, 1000)
    assert [b.slot.id for b in bookings] == [slot_id]
