"""The slot, booking and attendance handlers, once, on SQLite and PostgreSQL, through the real
wiring (`build_staff_service`): who may act, what is written, who is told, what is audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.bootstrap import build_staff_service
from bot.staff import StaffService
from bot.staff.bookings import (
    BookOnBehalf,
    BookPersonFound,
    MarkAttendance,
    SessionsOfDay,
    SlotAttendees,
)
from bot.staff.slots import (
    CancelSlot,
    ChangeSlot,
    CreateSlot,
    ListSlots,
    SlotChangeImpact,
    WeekOfSlots,
)
from config import load_settings
from storage.access import BookletProof
from storage.db import unit_of_work
from storage.models import AuditEntry, Beneficiary, Booklet, OutboundMessage, Slot, Voucher
from storage.staff import CLI_ADMIN, StaffIdentity, StaffRefused
from tests import factories
from tests.staff.helpers import new_staff

AT = factories.NOW  # 2026-11-26 09:00 UTC, a Thursday
PARIS_DAY = date(2026, 11, 26)


def _service(engine: Engine, **settings: object) -> StaffService:
    return build_staff_service(engine, load_settings(**settings), clock=lambda: AT)


def _advisor(place_id: int, staff_id: int = 41) -> StaffIdentity:
    return StaffIdentity(id=staff_id, name="Nadia", role="advisor", place_ids=(place_id,))


def _slot_with_people(
    engine: Engine, *, sms: int = 0, telegram: int = 0, opted_out: int = 0
) -> tuple[int, int, list[int]]:
    """A place and a slot in two days with people booked on it, each reachable by one
    channel; returns (place id, slot id, booking ids)."""
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot = factories.slot(session, place_id=place.id or 0, capacity=10)
        session.commit()
    bookings = []
    for n in range(sms + telegram + opted_out):
        with unit_of_work(engine) as session:
            person = factories.beneficiary(session, phone=f"+336110000{n:02d}")
            if sms <= n < sms + telegram:
                person.phone, person.telegram_chat_id = None, 5000 + n
            person.opted_out = n >= sms + telegram
            session.commit()
        booked = _service(engine).handle(
            CLI_ADMIN, BookOnBehalf(slot_id=slot.id or 0, beneficiary_id=person.id)
        )
        bookings.append(booked.id)
    return place.id or 0, slot.id or 0, bookings


def _audit(engine: Engine) -> list[tuple[str, str | None, str | None]]:
    with unit_of_work(engine) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.record, e.detail) for e in entries]


def _queued(engine: Engine, prefix: str) -> list[tuple[str, str]]:
    """(channel, text) of the queued messages whose dedupe key starts with `prefix`."""
    with unit_of_work(engine) as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))
        return [(m.channel, m.body) for m in rows if (m.dedupe_key or "").startswith(prefix)]


def test_an_advisor_creates_slots_at_their_place_only_in_the_configured_zone(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session:
        mine, theirs = factories.place(session).id or 0, factories.place(session).id or 0
        factories.topic(session, "email")
        session.commit()
    service, advisor = _service(engine), _advisor(mine)
    naive = datetime(2026, 12, 3, 14, 0)  # no offset: Europe/Paris, 13:00 UTC in winter
    made = service.handle(
        advisor,
        CreateSlot(mine, "email", naive, naive + timedelta(hours=2), capacity=8),
        origin="POST /staff/slots",
    )
    assert made.starts_at.utcoffset() == timedelta(hours=1) and made.booked == 0
    assert [s.id for s in service.handle(advisor, ListSlots())] == [made.id]
    with pytest.raises(StaffRefused) as elsewhere:
        service.handle(advisor, CreateSlot(theirs, "email", naive, naive, capacity=8))
    with pytest.raises(StaffRefused) as nowhere:
        service.handle(advisor, CreateSlot(999_999, "email", naive, naive, capacity=8))
    with pytest.raises(StaffRefused, match="between 2000 and 2100") as far:
        service.handle(advisor, CreateSlot(mine, "email", naive.replace(year=2200), naive, 8))
    with pytest.raises(StaffRefused, match="unknown topic") as topic:
        service.handle(advisor, CreateSlot(mine, "cuisine", naive, naive, capacity=8))
    kinds = [e.value.kind for e in (elsewhere, nowhere, far, topic)]
    assert kinds == ["forbidden", "not_found", "invalid", "invalid"]
    assert _audit(engine)[0] == ("slot.create", f"slot:{made.id}", "2026-12-03T14:00:00+01:00")
    assert ("refused.forbidden", "CreateSlot") in [(a, r) for a, r, _ in _audit(engine)]
    with pytest.raises(StaffRefused) as listing:
        service.handle(advisor, ListSlots(place_id=theirs))
    assert listing.value.kind == "forbidden"


def test_the_week_view_groups_a_places_slots_by_local_day(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        place = factories.place(session).id or 0
        late = datetime.fromisoformat("2026-11-29T23:30:00+01:00")  # Sunday night in Paris
        for start in (AT + timedelta(days=1), late, late + timedelta(hours=1)):
            factories.slot(session, place_id=place, starts_at=start)
        session.commit()
    week = _service(engine).handle(_advisor(place), WeekOfSlots())
    assert week.monday == date(2026, 11, 23) and week.place_id == place
    assert [(d.isoformat(), len(slots)) for d, slots in week.days if slots] == [
        ("2026-11-27", 1),
        ("2026-11-29", 1),
    ]  # Monday 30 at 00:30 belongs to the next week
    assert [p[0] for p in week.places] == [place] and ("email", "Email", "Email") in week.topics
    following = _service(engine).handle(_advisor(place), WeekOfSlots(day=date(2026, 12, 2)))
    assert [len(slots) for _, slots in following.days][0] == 1


def test_moving_a_slot_tells_each_booked_person_on_their_channel(engine: Engine) -> None:
    place, slot_id, _ = _slot_with_people(engine, sms=2, telegram=1, opted_out=1)
    service = _service(engine)
    impact = service.handle(_advisor(place), SlotChangeImpact(slot_id=slot_id))
    assert impact.by_channel == {"sms": 2, "telegram": 1} and len(impact.people) == 4
    resized = service.handle(_advisor(place), ChangeSlot(slot_id=slot_id, capacity=6))
    assert (resized.moved, resized.told, resized.slot.capacity) == (False, 0, 6)
    later = impact.slot.starts_at + timedelta(days=1)
    moved = service.handle(_advisor(place), ChangeSlot(slot_id=slot_id, starts_at=later))
    assert (moved.moved, moved.told, moved.by_channel) == (True, 3, {"sms": 2, "telegram": 1})
    assert moved.slot.ends_at - moved.slot.starts_at == timedelta(hours=2)  # length kept
    assert {channel for channel, _ in _queued(engine, "slot-moved")} == {"sms", "telegram"}
    assert _audit(engine)[-1][0] == "slot.change" and _audit(engine)[-1][2].endswith("3 told")
    with pytest.raises(StaffRefused, match="below the 4 people booked"):
        service.handle(_advisor(place), ChangeSlot(slot_id=slot_id, capacity=3))


def test_cancelling_gives_vouchers_back_tells_people_and_happens_once(engine: Engine) -> None:
    place, slot_id, bookings = _slot_with_people(engine, sms=1, telegram=1)
    service = _service(engine, sms_two_way=False)
    with pytest.raises(StaffRefused) as other:
        service.handle(_advisor(place + 1), CancelSlot(slot_id=slot_id), origin="POST /x")
    assert other.value.kind == "forbidden"
    cancelled = service.handle(_advisor(place), CancelSlot(slot_id=slot_id))
    assert (cancelled.told, cancelled.by_channel) == (2, {"sms": 1, "telegram": 1})
    assert cancelled.slot.cancelled and cancelled.slot.booked == 0
    with unit_of_work(engine) as session:
        vouchers = session.scalars(select(Voucher.status).where(Voucher.status != "available"))
        assert list(vouchers) == []
    sms = [text for channel, text in _queued(engine, "slot-cancelled") if channel == "sms"]
    assert len(sms) == 1 and "appelez le" in sms[0]  # a one-way sender: no "envoyez"
    assert ("slot.cancel", f"slot:{slot_id}", "2 people told") in _audit(engine)
    with pytest.raises(StaffRefused, match="already cancelled") as again:
        service.handle(_advisor(place), CancelSlot(slot_id=slot_id))
    assert again.value.kind == "conflict" and len(bookings) == 2


def _walk_in(engine: Engine) -> tuple[int, int, str, int]:
    """A place, a slot and a person nobody at the place knows yet (with their booklet)."""
    with unit_of_work(engine) as session:
        place = factories.place(session).id or 0
        slot = factories.slot(session, place_id=place).id or 0
        person = factories.beneficiary(session, phone="+33622000001").id or 0
        number = session.scalar(select(Booklet.number).where(Booklet.beneficiary_id == person))
        session.commit()
    return place, slot, str(number), person


def test_a_walk_in_is_booked_with_the_booklet_code_and_wrong_codes_are_limited(
    engine: Engine,
) -> None:
    place, slot, number, person = _walk_in(engine)
    service, advisor = _service(engine), _advisor(place)
    with pytest.raises(StaffRefused) as unknown:
        service.handle(advisor, BookOnBehalf(slot_id=slot, beneficiary_id=person))
    assert unknown.value.kind == "not_authorised"
    found = service.handle(advisor, BookPersonFound(slot_id=slot, search=number))
    assert (found.matches, found.booking) == (0, None)  # not one of theirs: not found
    for _ in range(5):
        with pytest.raises(StaffRefused) as wrong:
            service.handle(advisor, BookOnBehalf(slot, proof=BookletProof(number, "0000")))
        assert wrong.value.kind == "wrong_code"
    with pytest.raises(StaffRefused, match="5 wrong booklet codes"):
        service.handle(advisor, BookOnBehalf(slot, proof=BookletProof(number, "1234")))
    other = _advisor(place, staff_id=42)
    booked = service.handle(other, BookOnBehalf(slot, proof=BookletProof(number, "12 34")))
    assert (booked.beneficiary_id, booked.status) == (person, "booked")
    assert _audit(engine)[-1] == (
        "booking.create",
        f"booking:{booked.id}",
        f"slot:{slot} beneficiary:{person} walk-in booklet {number}",
    )
    with pytest.raises(StaffRefused, match="already_booked") as twice:
        service.handle(other, BookOnBehalf(slot_id=slot, beneficiary_id=person))
    assert twice.value.kind == "conflict"


def test_a_person_found_by_name_is_booked_only_when_one_matches(engine: Engine) -> None:
    place, slot, _, person = _walk_in(engine)
    staff_id, _ = new_staff(engine, "Nadia", places=[place])
    with unit_of_work(engine) as session:
        for name in ("Rosa", "Rosalie"):
            session.add(Beneficiary(first_name=name, created_at=AT, registered_by=staff_id))
        session.get(Beneficiary, person).registered_by = staff_id  # type: ignore[union-attr]  # exists
        session.commit()
    service, advisor = _service(engine), _advisor(place, staff_id)
    assert service.handle(advisor, BookPersonFound(slot, "Ros")).matches == 2
    assert service.handle(advisor, BookPersonFound(slot, "Zoé")).matches == 0
    found = service.handle(advisor, BookPersonFound(slot, "Personne"))
    assert found.matches == 1 and found.booking is not None
    assert found.booking.beneficiary_id == person
    sheet = service.handle(advisor, SlotAttendees(slot_id=slot))
    assert [(a.beneficiary_id, a.status) for a in sheet] == [(person, "booked")]


@pytest.mark.parametrize(
    ("policy", "attended", "booking", "voucher"),
    [
        ("return", True, "attended", "redeemed"),
        ("return", False, "no_show", "available"),
        ("consume", False, "no_show", "redeemed"),
    ],
)
def test_attendance_redeems_and_a_no_show_follows_the_policy(
    engine: Engine, policy: str, attended: bool, booking: str, voucher: str
) -> None:
    place, _, [booking_id] = _slot_with_people(engine, sms=1)
    service = _service(engine, no_show_policy=policy)
    marked = service.handle(_advisor(place), MarkAttendance(booking_id, attended=attended))
    assert marked.status == booking
    with unit_of_work(engine) as session:
        assert session.get(Voucher, marked.voucher_id).status == voucher  # type: ignore[union-attr]  # exists
    assert _audit(engine)[-1] == ("booking.attendance", f"booking:{booking_id}", booking)
    with pytest.raises(StaffRefused, match=f"already {booking}") as again:
        service.handle(_advisor(place), MarkAttendance(booking_id, attended=True))
    assert again.value.kind == "conflict"


def test_attendance_is_refused_at_another_place_and_for_an_unknown_booking(
    engine: Engine,
) -> None:
    place, _, [booking_id] = _slot_with_people(engine, sms=1)
    service = _service(engine)
    with pytest.raises(StaffRefused) as other:
        service.handle(_advisor(place + 1), MarkAttendance(booking_id, attended=True))
    with pytest.raises(StaffRefused) as unknown:
        service.handle(_advisor(place), MarkAttendance(999_999, attended=True))
    assert (other.value.kind, unknown.value.kind) == ("forbidden", "not_found")
    with unit_of_work(engine) as session:
        assert session.scalar(select(Slot.booked)) == 1  # nothing changed


def test_the_sessions_of_a_day_are_my_places_live_slots_with_their_attendees(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session:
        place, elsewhere = factories.place(session), factories.place(session)
        evening = datetime.fromisoformat("2026-11-26T23:30:00+01:00")  # still the 26th in Paris
        tonight = factories.slot(session, place_id=place.id or 0, starts_at=evening)
        factories.slot(session, place_id=place.id or 0, starts_at=evening + timedelta(hours=1))
        factories.slot(session, place_id=elsewhere.id or 0, starts_at=evening)
        factories.slot(session, place_id=place.id or 0, starts_at=AT + timedelta(hours=2))
        session.commit()
    service, advisor = _service(engine), _advisor(place.id or 0)
    cancelled = service.handle(advisor, ListSlots())[0]
    service.handle(advisor, CancelSlot(slot_id=cancelled.id))
    today = service.handle(advisor, SessionsOfDay())
    assert (today.day, today.is_today) == (PARIS_DAY, True)
    assert [s.slot.id for s in today.sessions] == [tonight.id]
    assert today.sessions[0].place == f"{place.name} (Grenoble)"
    tomorrow = service.handle(advisor, SessionsOfDay(day=PARIS_DAY + timedelta(days=1)))
    assert not tomorrow.is_today and len(tomorrow.sessions) == 1
