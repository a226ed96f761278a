"""Two people racing for the last seat cannot both get it; a voucher is never reserved twice.
Real threads, real connections, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from storage.booking import BookingRefused, cancel_booking, reserve_seat
from storage.db import unit_of_work
from storage.models import Booking, BookingStatus, Slot, Voucher, VoucherStatus
from tests import factories
from tests.factories import NOW

RACERS = 8
ROUNDS = 5


def _race(engine, jobs: list[tuple[int, int]]) -> tuple[list[int], list[str]]:  # type: ignore[no-untyped-def]
    """Run reserve_seat(beneficiary, slot) for every job at once; return winners and refusals."""
    barrier = threading.Barrier(len(jobs))
    winners: list[int] = []
    refusals: list[str] = []
    lock = threading.Lock()

    def attempt(beneficiary_id: int, slot_id: int) -> None:
        barrier.wait()
        with unit_of_work(engine) as session:
            try:
                booking = reserve_seat(
                    session, beneficiary_id=beneficiary_id, slot_id=slot_id, now=NOW
                )
                session.commit()
                with lock:
                    winners.append(booking.id or 0)
            except BookingRefused as refused:
                with lock:
                    refusals.append(refused.reason)

    threads = [threading.Thread(target=attempt, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return winners, refusals


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_last_seat_goes_to_exactly_one_person(engine, round_: int) -> None:
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot_id = factories.slot(session, place_id=place.id, capacity=1).id
        people = [factories.beneficiary(session, vouchers=2).id for _ in range(RACERS)]
        session.commit()

    winners, refusals = _race(engine, [(person, slot_id) for person in people])

    assert len(winners) == 1
    assert refusals == ["slot_full"] * (RACERS - 1)
    with Session(engine) as session:
        assert session.get(Slot, slot_id).booked == 1
        reserved = session.scalar(
            select(func.count())
            .select_from(Voucher)
            .where(Voucher.status == VoucherStatus.RESERVED.value)
        )
        assert reserved == 1, "the losers' vouchers must come back"


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_one_voucher_cannot_pay_for_two_seats(engine, round_: int) -> None:
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slots = [factories.slot(session, place_id=place.id, capacity=5).id for _ in range(RACERS)]
        person = factories.beneficiary(session, vouchers=1).id
        session.commit()

    winners, refusals = _race(engine, [(person, slot_id) for slot_id in slots])

    assert len(winners) == 1
    assert refusals == ["no_voucher"] * (RACERS - 1)
    with Session(engine) as session:
        total_booked = session.scalar(select(func.sum(Slot.booked)))
        assert total_booked == 1


def test_cancel_returns_the_voucher_and_the_seat(engine) -> None:
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot_id = factories.slot(session, place_id=place.id, capacity=1).id
        person = factories.beneficiary(session, vouchers=1).id
        booking = reserve_seat(session, beneficiary_id=person, slot_id=slot_id, now=NOW)
        session.commit()
    with unit_of_work(engine) as session:
        cancel_booking(session, booking_id=booking.id, now=NOW, beneficiary_id=person)
        session.commit()
    with Session(engine) as session:
        assert session.get(Slot, slot_id).booked == 0
        assert session.get(Booking, booking.id).status == BookingStatus.CANCELLED.value
        assert session.scalars(select(Voucher.status)).all() == [VoucherStatus.AVAILABLE.value]


def test_late_cancellation_is_refused(engine) -> None:
    from datetime import timedelta

    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot_id = factories.slot(session, place_id=place.id, starts_at=NOW + timedelta(hours=3)).id
        person = factories.beneficiary(session).id
        booking = reserve_seat(session, beneficiary_id=person, slot_id=slot_id, now=NOW)
        session.commit()
    with unit_of_work(engine) as session, pytest.raises(BookingRefused) as refused:
        cancel_booking(
            session,
            booking_id=booking.id,
            now=NOW + timedelta(hours=1, minutes=30),
            beneficiary_id=person,
            cutoff=timedelta(hours=2),
        )
    assert refused.value.reason == "too_late"


def test_expired_vouchers_do_not_pay(engine) -> None:
    from datetime import date

    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot_id = factories.slot(session, place_id=place.id).id
        person = factories.beneficiary(session, vouchers=2, expires_on=date(2026, 1, 1)).id
        session.commit()
    with unit_of_work(engine) as session, pytest.raises(BookingRefused) as refused:
        reserve_seat(session, beneficiary_id=person, slot_id=slot_id, now=NOW)
    assert refused.value.reason == "no_voucher"
