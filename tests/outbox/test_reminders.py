"""Reminder planning and sending, through `tick` with a controlled clock and the loopback
gateway: each reminder once, at the right time, never in quiet hours, never after a cancel."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.outbox.quiet_hours import SendingCalendar, is_quiet
from bot.outbox.reminder_planning import catalog_renderer
from bot.outbox.scheduler import plan, tick
from storage.booking import cancel_booking, reserve_seat
from storage.db import unit_of_work
from storage.models import Booking, OutboundMessage, Slot, Voucher
from storage.reminders import notify_slot_changed
from tests import factories
from tests.outbox.conftest import make_settings, paris

BOOKED_AT = paris("2026-11-26 10:00")
PHONE = "+33612345678"


def _book(engine, starts: datetime, *, phone: str = PHONE, **flags: object) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A person with that phone booked on a new slot starting at `starts`: (booking, slot)."""
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot = factories.slot(session, place_id=place.id, starts_at=starts)
        person = factories.beneficiary(session, phone=phone)
        for name, value in flags.items():
            setattr(person, name, value)
        booking = reserve_seat(session, beneficiary_id=person.id, slot_id=slot.id, now=BOOKED_AT)
        session.commit()
        return booking.id, slot.id  # type: ignore[return-value]


async def _run(
    engine,
    settings,
    providers,
    gateway,
    start: str,
    end: str,  # type: ignore[no-untyped-def]
    fast,
    step: timedelta = timedelta(minutes=30),
) -> list[tuple[datetime, str]]:
    """Tick from start to end; returns (local tick time, text) for every message received."""
    moment, last, seen = paris(start), paris(end), []
    while moment <= last:
        before = len(gateway.received)
        await tick(engine, settings, providers, now=moment, config=fast)
        seen += [(moment, item.text) for item in gateway.received[before:]]
        moment += step
    return seen


async def test_day_before_and_two_hours_before_each_once(
    engine, gateway, providers, settings, fast
) -> None:
    _book(engine, paris("2026-12-02 14:00"))
    seen = await _run(
        engine, settings, providers, gateway, "2026-11-30 09:00", "2026-12-02 15:00", fast
    )
    assert [(t, text.split("\n")[0]) for t, text in seen] == [
        (paris("2026-12-01 10:00"), "Rappel : atelier demain, mer. 2 déc. 14h"),
        (paris("2026-12-02 12:00"), "Rappel : atelier à 14h"),
    ]
    assert all(len(text) <= 160 for _, text in seen)


@pytest.mark.parametrize(
    "starts, expected",
    [
        # Monday 08:30: J-1 falls on Sunday → Saturday 10:00; H-2 at 06:30 → 08:00.
        ("2026-12-07 08:30", ["2026-12-05 10:00", "2026-12-07 08:00"]),
        # Saturday after Christmas: J-1 on Thursday 24th; H-2 at 08:00.
        ("2026-12-26 09:00", ["2026-12-24 10:00", "2026-12-26 08:00"]),
        # 08:10 the day after 14 July: 08:00 is too close to the start, H-2 is dropped.
        ("2027-07-15 08:10", ["2027-07-13 10:00"]),
    ],
)
async def test_reminders_wait_for_allowed_times(
    engine, gateway, providers, settings, fast, starts: str, expected: list[str]
) -> None:
    _book(engine, paris(starts))
    first = paris(starts) - timedelta(days=3)
    seen = await _run(
        engine, settings, providers, gateway, first.strftime("%Y-%m-%d 08:00"), starts, fast
    )
    assert [t for t, _ in seen] == [paris(e) for e in expected]
    assert not any(is_quiet(t, settings) for t, _ in seen)


async def test_cancelled_booking_or_slot_gets_nothing(
    engine, gateway, providers, settings, fast
) -> None:
    booking_id, _ = _book(engine, paris("2026-12-02 14:00"))
    _, slot_id = _book(engine, paris("2026-12-02 15:00"), phone="+33612345679")
    plan(engine, settings, now=paris("2026-11-30 09:00"))  # both J-1 queued
    with unit_of_work(engine) as session:
        cancel_booking(session, booking_id=booking_id, now=paris("2026-11-30 09:30"))
        session.get(Slot, slot_id).cancelled = True
        session.commit()
    seen = await _run(
        engine, settings, providers, gateway, "2026-11-30 10:00", "2026-12-02 15:00", fast
    )
    assert seen == []


async def test_reminders_off_or_stop_means_none(engine, gateway, providers, settings, fast) -> None:
    _book(engine, paris("2026-12-02 14:00"), reminders_enabled=False)
    _book(engine, paris("2026-12-02 14:00"), phone="+33612345679")
    plan(engine, settings, now=paris("2026-11-30 09:00"))
    with unit_of_work(engine) as session:  # the second person texts STOP after planning
        from storage.models import Beneficiary

        person = session.scalar(select(Beneficiary).where(Beneficiary.phone == "+33612345679"))
        person.opted_out = True
        session.commit()
    assert (
        await _run(
            engine, settings, providers, gateway, "2026-12-01 09:00", "2026-12-02 15:00", fast
        )
        == []
    )


async def test_one_way_sender_says_whom_to_call(engine, gateway, providers, fast) -> None:
    settings = make_settings(sms_two_way=False)
    _book(engine, paris("2026-12-02 14:00"))
    seen = await _run(
        engine, settings, providers, gateway, "2026-12-01 10:00", "2026-12-01 10:00", fast
    )
    assert "appelez le 04 76 00 00 00" in seen[0][1] and "envoyez" not in seen[0][1]


def test_planning_is_idempotent(engine, settings) -> None:
    _book(engine, paris("2026-12-02 14:00"))
    first = plan(engine, settings, now=paris("2026-11-30 09:00"))
    again = plan(engine, settings, now=paris("2026-11-30 09:01"))
    assert (first.j1, first.h2) == (1, 1) and (again.j1, again.h2) == (0, 0)
    with Session(engine) as session:
        keys = sorted(session.scalars(select(OutboundMessage.dedupe_key)))
    assert [k.split(":")[0] for k in keys] == ["h2", "j1"]


def test_telegram_gets_original_text(settings) -> None:
    render = catalog_renderer(settings.tz)
    params = {
        "starts_at": paris("2026-12-02 14:00"),
        "place": "Maison de l’Île",
        "address": "1 rue",
        "commune": "Échirolles",
        "phone": "04",
    }
    telegram, _ = render("telegram", "fr", "reminder.day_before", params)
    sms, segments = render("sms", "fr", "reminder.day_before", params)
    assert "Maison de l’Île" in telegram and "déc." in telegram
    assert "Maison de l'Ile" in sms and segments == 1


def test_voucher_expiry_notices(engine, settings) -> None:
    with unit_of_work(engine) as session:
        factories.beneficiary(session, phone=PHONE, vouchers=3, expires_on=date(2026, 12, 31))
        session.commit()
    assert plan(engine, settings, now=paris("2026-12-01 09:00")).expiry == 1
    assert plan(engine, settings, now=paris("2026-12-02 09:00")).expiry == 0
    assert plan(engine, settings, now=paris("2026-12-24 09:00")).expiry == 1
    with Session(engine) as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    booklet = rows[0].dedupe_key.split(":")[2]
    assert [r.dedupe_key for r in rows] == [
        f"expiry30:voucher-batch:{booklet}:2026-12-31",
        f"expiry7:voucher-batch:{booklet}:2026-12-31",
    ]
    assert "Il en reste 3" in rows[1].body
    assert rows[0].next_attempt_at == paris("2026-12-01 10:00")


def test_offer_after_no_show(engine, settings) -> None:
    booking_id, _ = _book(engine, paris("2026-12-01 14:00"))
    with unit_of_work(engine) as session:
        session.get(Booking, booking_id).status = "no_show"
        session.commit()
    assert plan(engine, settings, now=paris("2026-12-01 18:00")).noshow == 1
    with Session(engine) as session:
        row = session.scalar(
            select(OutboundMessage).where(
                OutboundMessage.dedupe_key == f"noshow:booking:{booking_id}"
            )
        )
    assert row.next_attempt_at == paris("2026-12-02 10:00") and "pas venu" in row.body


def test_cancelled_slot_notifies_and_drops_reminders(engine, settings) -> None:
    booking_id, slot_id = _book(engine, paris("2026-12-02 14:00"))
    now = paris("2026-11-30 09:00")
    plan(engine, settings, now=now)
    with unit_of_work(engine) as session:
        session.get(Slot, slot_id).cancelled = True
        render = catalog_renderer(settings.tz)
        assert notify_slot_changed(session, slot_id, "cancelled", now, render=render) == 1
        session.commit()
    with Session(engine) as session:
        rows = {r.dedupe_key.split(":")[0]: r for r in session.scalars(select(OutboundMessage))}
    assert rows["j1"].status == rows["h2"].status == "cancelled"
    assert rows["slot-cancelled"].status == "queued" and "annulé" in rows["slot-cancelled"].body


def test_expire_vouchers(engine, settings) -> None:
    from bot.outbox.scheduler import expire

    with unit_of_work(engine) as session:
        factories.beneficiary(session, vouchers=2, expires_on=date(2026, 11, 30))
        session.commit()
    assert expire(engine, settings, now=paris("2026-11-30 23:00")) == 0
    assert expire(engine, settings, now=paris("2026-12-01 00:30")) == 2
    with Session(engine) as session:
        assert {v.status for v in session.scalars(select(Voucher))} == {"expired"}


def test_calendar_shape(settings) -> None:
    calendar = SendingCalendar(settings)
    assert calendar.next_allowed(paris("2026-12-06 10:00")) == paris("2026-12-07 08:00")
