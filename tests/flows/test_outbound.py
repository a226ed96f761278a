"""Outbound rules as pure functions (flows.outbound): when, on which channel, what text.
Table tests on the real sending calendar (bot.outbox.quiet_hours: 20:00-08:00 quiet, Sundays and
French holidays closed) and the real catalogs; no database."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from bot.outbox.quiet_hours import SendingCalendar
from config import Settings
from config.catalogs import load_catalogs
from flows.outbound.channel import choose_address
from flows.outbound.reminders import (
    SLOT_REMINDERS,
    Wording,
    expiry_key,
    expiry_message,
    message_to,
    no_show_message,
    slot_texts,
)
from flows.outbound.schedule import (
    Clock,
    day_before,
    expiry_kind,
    expiry_window,
    no_show_window,
    two_hours_before,
)
from flows.outbound.texts import catalog_key, catalog_renderer
from flows.types import ExpiringVouchers, MissedBooking, Recipient, SlotAudience
from tests.flows.fakes import PARIS

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
CALENDAR = SendingCalendar(SETTINGS)
PHONE = "+33612345678"
HELP = "04 76 59 59 59"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def clock(now: str, **kw: Any) -> Clock:
    return Clock(now=at(now), tz=PARIS, calendar=CALENDAR, **kw)


def person(
    phone: str | None = PHONE,
    chat: int | None = None,
    preferred: str | None = None,
    last: str | None = None,
    unreachable: bool = False,
    language: str = "fr",
) -> Recipient:
    return Recipient(7, "Aïcha", language, phone, chat, preferred, last, unreachable)


@pytest.mark.parametrize(
    ("who", "voice", "expected"),
    [
        (person(chat=42, last="telegram"), False, ("telegram", "tg:42")),
        (person(chat=42, preferred="sms", last="telegram"), False, ("sms", PHONE)),
        (person(chat=42, last="telegram", unreachable=True), False, ("sms", PHONE)),
        (person(phone=None, chat=42, preferred="sms"), False, ("telegram", "tg:42")),
        (person(phone="", chat=None), False, None),
        (person(phone=None, chat=None), False, None),
        (person(chat=42), False, ("sms", PHONE)),  # nothing chosen: SMS before Telegram
        (person(preferred="voice"), True, ("voice", PHONE)),
        (person(preferred="voice"), False, ("sms", PHONE)),  # calls not offered
        (person(phone=None, chat=42, preferred="voice"), True, ("telegram", "tg:42")),
    ],
)
def test_channel_choice(who: Recipient, voice: bool, expected: tuple[str, str] | None) -> None:
    assert choose_address(who, voice=voice) == expected


@pytest.mark.parametrize(
    ("starts", "now", "expected"),
    [
        # (slot start, planning moment) → (due, sent at, not after) or None
        (
            "2026-12-02 14:00",
            "2026-11-30 09:00",
            ("2026-12-01 10:00", "2026-12-01 10:00", "2026-12-02 00:00"),
        ),
        # Monday slot: Sunday is closed, reminded on Saturday
        (
            "2026-12-07 09:00",
            "2026-12-01 09:00",
            ("2026-12-05 10:00", "2026-12-05 10:00", "2026-12-07 00:00"),
        ),
        # the day after Christmas: moved back to the 24th
        (
            "2026-12-26 09:00",
            "2026-12-20 09:00",
            ("2026-12-24 10:00", "2026-12-24 10:00", "2026-12-26 00:00"),
        ),
        # booked after 10:00 the day before: sent at once
        (
            "2026-12-02 14:00",
            "2026-12-01 15:30",
            ("2026-12-01 10:00", "2026-12-01 15:30", "2026-12-02 00:00"),
        ),
        # booked in the evening of the day before: quiet until 08:00, the slot's day: none
        ("2026-12-02 14:00", "2026-12-01 21:00", None),
    ],
)
def test_day_before(starts: str, now: str, expected: tuple[str, str, str] | None) -> None:
    window = day_before(at(starts), clock(now))
    got = window and (window.due, window.send_at, window.not_after)
    assert got == (expected and tuple(at(t) for t in expected))


@pytest.mark.parametrize(
    ("starts", "now", "expected_send", "expected_not_after"),
    [
        ("2026-12-02 14:00", "2026-12-01 09:00", "2026-12-02 12:00", "2026-12-02 13:45"),
        ("2026-12-02 08:30", "2026-12-01 09:00", "2026-12-02 08:00", "2026-12-02 08:15"),  # quiet
        ("2026-12-02 08:10", "2026-12-01 09:00", None, None),  # 08:00 is too close
        ("2026-12-06 11:00", "2026-12-01 09:00", None, None),  # a Sunday slot: nothing goes
        ("2026-12-02 14:00", "2026-12-02 13:00", "2026-12-02 13:00", "2026-12-02 13:45"),  # late
        ("2026-12-02 14:00", "2026-12-02 13:50", None, None),
    ],
)
def test_two_hours_before(
    starts: str, now: str, expected_send: str | None, expected_not_after: str | None
) -> None:
    window = two_hours_before(at(starts), clock(now))
    if expected_send is None:
        assert window is None
    else:
        assert window is not None
        assert (window.send_at, window.not_after) == (
            at(expected_send),
            at(expected_not_after or ""),
        )


@pytest.mark.parametrize(
    ("expires", "now", "kind", "send_at"),
    [
        (date(2026, 12, 31), "2026-12-01 09:00", "expiry30", "2026-12-01 10:00"),
        (date(2026, 12, 31), "2026-12-01 11:00", "expiry30", "2026-12-01 11:00"),
        (date(2026, 12, 31), "2026-12-24 09:00", "expiry7", "2026-12-24 10:00"),
        (date(2026, 12, 31), "2026-12-24 21:00", "expiry7", "2026-12-26 08:00"),  # Christmas
        (date(2026, 12, 8), "2026-11-30 21:00", "expiry30", None),  # 8 days left: 30-day one over
        (date(2026, 12, 1), "2026-12-01 21:00", "expiry7", None),  # its last day is over
    ],
)
def test_expiry_notices(expires: date, now: str, kind: str, send_at: str | None) -> None:
    moment = clock(now)
    assert expiry_kind(expires, moment.today) == kind
    window = expiry_window(kind, expires, moment)
    assert (window and window.send_at) == (send_at and at(send_at))


@pytest.mark.parametrize(
    ("starts", "now", "send_at"),
    [
        ("2026-12-01 14:00", "2026-12-01 18:00", "2026-12-02 10:00"),
        ("2026-12-05 14:00", "2026-12-05 18:00", "2026-12-07 08:00"),  # Saturday: Sunday closed
        ("2026-12-01 14:00", "2026-12-04 09:00", "2026-12-04 09:00"),  # within its two days
        ("2026-12-01 14:00", "2026-12-04 10:01", None),
    ],
)
def test_no_show_offer(starts: str, now: str, send_at: str | None) -> None:
    window = no_show_window(at(starts), clock(now))
    assert (window and window.send_at) == (send_at and at(send_at))


RENDER = catalog_renderer(load_catalogs(), PARIS)
TWO_WAY = Wording(RENDER, two_way=True, voice=False, help_phone=HELP)
ONE_WAY = Wording(RENDER, two_way=False, voice=False, help_phone=HELP)


@pytest.mark.parametrize(
    ("channel", "two_way", "key"),
    [
        ("sms", True, "reminder.day_before"),
        ("sms", False, "reminder.day_before_one_way"),
        ("telegram", False, "reminder.day_before"),
        ("voice", False, "reminder.day_before"),
    ],
)
def test_one_way_sms_says_whom_to_call(channel: str, two_way: bool, key: str) -> None:
    assert catalog_key("reminder.day_before", channel, two_way=two_way) == key


SLOT = SlotAudience(
    4, at("2026-12-02 14:00"), "Maison de l’Île", "1 rue", "Échirolles", None, "sms", "fr"
)


def test_slot_texts_per_channel_and_language() -> None:
    slots = [
        SLOT,
        SlotAudience(*[*vars(SLOT).values()][:6], "telegram", "fr"),  # type: ignore[misc]
        SlotAudience(*[*vars(SLOT).values()][:6], "sms", "en"),  # type: ignore[misc]
        SlotAudience(5, at("2026-12-01 09:00"), "Maison", "2 rue", "Grenoble", "0476", "sms", "fr"),
    ]
    texts = slot_texts(
        SLOT_REMINDERS["j1"],
        slots,
        clock=clock("2026-11-30 21:00"),
        wording=TWO_WAY,
    )
    # slot 5 starts the next morning: its day-before reminder could only go in quiet hours
    assert [(t.slot_id, t.channel, t.language) for t in texts] == [
        (4, "sms", "fr"),
        (4, "telegram", "fr"),
        (4, "sms", "en"),
    ]
    sms, telegram, english = texts
    assert "Maison de l'Ile" in sms.body and sms.segments == 1  # GSM-7, one segment
    assert "Maison de l’Île" in telegram.body
    assert english.body.startswith("Reminder: session tomorrow")
    assert sms.send_at == at("2026-12-01 10:00") and sms.booked_by == at("2026-12-01 10:00")
    one_way = slot_texts(
        SLOT_REMINDERS["j1"],
        [SLOT],
        clock=clock("2026-11-30 21:00"),
        wording=ONE_WAY,
    )
    assert HELP in one_way[0].body  # the slot's place has no phone: the metropolis' number


def test_messages_to_queue() -> None:
    batch = ExpiringVouchers("PN-0001", date(2026, 12, 31), 3, person(chat=42, last="telegram"))
    now = clock("2026-12-01 09:00")
    assert expiry_key(batch, now.today) == "expiry30:voucher-batch:PN-0001:2026-12-31"
    notice = expiry_message(
        batch,
        clock=now,
        wording=TWO_WAY,
    )
    assert notice is not None
    assert (notice.channel, notice.address, notice.beneficiary_id) == ("telegram", "tg:42", 7)
    assert notice.dedupe_key == "expiry30:voucher-batch:PN-0001:2026-12-31"
    assert (notice.send_after, notice.not_after) == (at("2026-12-01 10:00"), at("2026-12-24 00:00"))
    assert "3" in notice.body
    missed = MissedBooking(12, at("2026-12-01 14:00"), None, person())
    offer = no_show_message(
        missed,
        clock=clock("2026-12-01 18:00"),
        wording=ONE_WAY,
    )
    assert (
        offer is not None
        and offer.dedupe_key == "noshow:booking:12"
        and HELP.replace(" ", "") in offer.body.replace(" ", "")
    )
    nobody = no_show_message(
        MissedBooking(12, missed.starts_at, None, person(phone=None)),
        clock=clock("2026-12-01 18:00"),
        wording=TWO_WAY,
    )
    assert nobody is None


def test_a_missing_catalog_text_queues_nothing_and_is_told_once() -> None:
    told: list[str] = []
    render = catalog_renderer(load_catalogs(), PARIS, on_missing=told.append)
    for _ in range(3):
        assert (
            message_to(
                person(),
                key="reminder.nowhere",
                params={},
                dedupe_key="x",
                send_at=None,
                not_after=None,
                render=render,
                two_way=True,
            )
            is None
        )
    assert told == ["reminder.nowhere"]


def test_the_clock_is_local() -> None:
    moment = clock("2026-12-01 00:30")
    assert moment.today == date(2026, 12, 1)
    assert moment.local_at(date(2026, 12, 2), time(10)) == at("2026-12-02 10:00")


def test_a_call_for_people_who_chose_calls_when_calls_are_offered() -> None:
    missed = MissedBooking(12, at("2026-12-01 14:00"), None, person(preferred="voice"))
    calls = Wording(RENDER, two_way=True, voice=True, help_phone=HELP)
    offer = no_show_message(missed, clock=clock("2026-12-01 18:00"), wording=calls)
    assert offer is not None and (offer.channel, offer.address) == ("voice", PHONE)
    assert offer.body.startswith("{")  # the spoken turn as JSON, said by bot.outbox.twilio_voice
    text = no_show_message(missed, clock=clock("2026-12-01 18:00"), wording=TWO_WAY)
    assert text is not None and text.channel == "sms"
