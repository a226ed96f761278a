"""Staff storage functions on SQLite and PostgreSQL: scale, policies, beneficiaries, stats."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.access import BookletProof
from storage.beneficiaries_admin import answer_help_request
from storage.broadcasts import confirm_broadcast, create_broadcast
from storage.db import unit_of_work
from storage.models import Booklet, HelpRequest, OutboundMessage, Voucher
from storage.slots_admin import book_for, change_slot, mark_attendance
from storage.staff import CLI_ADMIN, StaffIdentity, StaffRefused, link_staff_chat
from storage.staff import issue_staff_link as staff_link
from storage.stats import staff_stats
from tests import factories
from tests.staff.helpers import NOW, add_people, new_staff

PARIS = ZoneInfo("Europe/Paris")
RULES = {"price_eur": 0.07, "threshold": 1_000_000}


def _count(session, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(OutboundMessage).where(*where)) or 0


def test_a_large_segment_is_queued_whole_without_opted_out_people(engine) -> None:  # type: ignore[no-untyped-def]
    # The 100,000-recipient timing is measured by `passnum bench`, not here.
    add_people(engine, 20_000, opted_out_every=100)
    with unit_of_work(engine) as session:
        draft, seen = create_broadcast(
            session,
            staff=CLI_ADMIN,
            segment="all",
            message="Bonjour",
            language=None,
            send_at=None,
            now=NOW,
            **RULES,
        )
        confirm_broadcast(
            session,
            staff=CLI_ADMIN,
            broadcast_id=draft.id or 0,
            now=NOW,
            threshold=RULES["threshold"],
        )
        session.commit()
    assert seen.recipients == 19_800
    with unit_of_work(engine) as session:
        assert _count(session, OutboundMessage.broadcast_id == draft.id) == 19_800


def test_confirming_twice_queues_once_and_the_author_cannot_approve(engine) -> None:  # type: ignore[no-untyped-def]
    add_people(engine, 5)
    with unit_of_work(engine) as session:
        draft, _ = create_broadcast(
            session,
            staff=CLI_ADMIN,
            segment="commune:38057",
            message="Bonjour",
            language=None,
            send_at=None,
            now=NOW,
            price_eur=0.07,
            threshold=3,
        )
        held = confirm_broadcast(
            session, staff=CLI_ADMIN, broadcast_id=draft.id or 0, now=NOW, threshold=3
        )
        assert held.status == "pending_approval"
        with pytest.raises(StaffRefused) as again:
            confirm_broadcast(
                session, staff=CLI_ADMIN, broadcast_id=draft.id or 0, now=NOW, threshold=3
            )
        assert again.value.kind == "conflict" and _count(session) == 0


@pytest.mark.parametrize("policy, voucher", [("return", "available"), ("consume", "redeemed")])
def test_no_show_follows_the_policy(engine, policy: str, voucher: str) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot = factories.slot(session, place_id=place.id or 0, starts_at=NOW + timedelta(days=1))
        person = factories.beneficiary(session, phone="+33611111111")
        advisor = StaffIdentity(id=1, name="Nadia", role="advisor", place_ids=(place.id or 0,))
        booking = book_for(  # a walk-in at the advisor's desk, booklet in hand
            session,
            staff=advisor,
            slot_id=slot.id or 0,
            proof=BookletProof(_booklet_of(session, person.id or 0), "1234"),
            now=NOW,
        )
        mark_attendance(
            session,
            staff=advisor,
            booking_id=booking.id or 0,
            attended=False,
            no_show_policy=policy,
            now=NOW + timedelta(days=1, hours=3),
        )
        assert session.get(Voucher, booking.voucher_id).status == voucher  # type: ignore[union-attr]


def _booklet_of(session, person_id: int) -> str:  # type: ignore[no-untyped-def]
    return str(session.scalar(select(Booklet.number).where(Booklet.beneficiary_id == person_id)))


def _booked_slot(session):  # type: ignore[no-untyped-def]
    place = factories.place(session)
    slot = factories.slot(session, place_id=place.id or 0, starts_at=NOW + timedelta(days=3))
    person = factories.beneficiary(session, phone="+33611111112")
    book_for(session, staff=CLI_ADMIN, slot_id=slot.id or 0, beneficiary_id=person.id or 0, now=NOW)
    return slot


def test_moving_a_slot_tells_the_booked_people(engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        slot = _booked_slot(session)
        change_slot(
            session,
            staff=CLI_ADMIN,
            slot_id=slot.id or 0,
            now=NOW,
            tz=PARIS,
            two_way=True,
            starts_at=NOW + timedelta(days=4),
        )
        assert _count(session, OutboundMessage.address == "+33611111112") == 1


def test_capacity_cannot_go_below_the_people_booked(engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        slot = _booked_slot(session)
        with pytest.raises(StaffRefused, match="below the 1 people booked"):
            change_slot(
                session,
                staff=CLI_ADMIN,
                slot_id=slot.id or 0,
                now=NOW,
                tz=PARIS,
                two_way=True,
                capacity=0,
            )


def test_answering_a_help_request_queues_it_on_their_channel(engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session, phone="+33611111113")
        request = HelpRequest(
            beneficiary_id=person.id,
            channel="sms",
            address="+33611111113",
            text="Je ne trouve plus mon chéquier",
            created_at=NOW,
        )
        session.add(request)
        session.flush()
        answer_help_request(
            session,
            staff=CLI_ADMIN,
            request_id=request.id or 0,
            text="Passez à l’accueil mardi, on s’en occupe.",
            now=NOW,
        )
        body = session.scalar(select(OutboundMessage.body))
        assert body == "Passez à l'accueil mardi, on s'en occupe." and request.answered_at
        with pytest.raises(StaffRefused, match="already answered"):
            answer_help_request(
                session, staff=CLI_ADMIN, request_id=request.id or 0, text="Encore", now=NOW
            )


def test_staff_telegram_link_is_one_time(engine) -> None:  # type: ignore[no-untyped-def]
    staff_id, _ = new_staff(engine, "Nadia")
    with unit_of_work(engine) as session:
        token = staff_link(session, staff_id=staff_id, by=CLI_ADMIN, now=NOW)
        first = link_staff_chat(session, token=token, chat_id=42, now=NOW)
        again = link_staff_chat(session, token=token, chat_id=43, now=NOW)
        late = staff_link(session, staff_id=staff_id, by=CLI_ADMIN, now=NOW)
        expired = link_staff_chat(session, token=late, chat_id=44, now=NOW + timedelta(days=8))
    assert first is not None and first.id == staff_id and again is None and expired is None


def test_stats_count_by_place_and_month(engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot = factories.slot(session, place_id=place.id or 0, starts_at=NOW + timedelta(days=1))
        person = factories.beneficiary(session, vouchers=3, phone="+33611111114")
        booking = book_for(
            session, staff=CLI_ADMIN, slot_id=slot.id or 0, beneficiary_id=person.id or 0, now=NOW
        )
        mark_attendance(
            session,
            staff=CLI_ADMIN,
            booking_id=booking.id or 0,
            attended=False,
            no_show_policy="consume",
            now=NOW,
        )
        session.add(
            OutboundMessage(
                channel="sms",
                address="+33611111114",
                body="x",
                segments=2,
                status="delivered",
                next_attempt_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.flush()
        stats = staff_stats(session, staff=CLI_ADMIN, price_eur=0.07)
        advisor = StaffIdentity(id=9, name="N", role="advisor", place_ids=(place.id or 0,))
        theirs = staff_stats(session, staff=advisor, price_eur=0.07)
    assert stats.totals["vouchers_issued"] == 3 and stats.totals["vouchers_redeemed"] == 1
    assert stats.totals["no_shows"] == 1 and stats.totals["messages_cost_eur"] == 0.14
    assert stats.bookings[0]["month"] == f"{slot.starts_at:%Y-%m}"
    assert theirs.bookings == stats.bookings and theirs.messages == []
