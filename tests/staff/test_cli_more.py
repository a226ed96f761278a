"""`passnum staff` commands for help requests, beneficiaries and slots, through typer's
CliRunner on a real database holding the demo data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner, Result

from bot.cli.main import app
from storage.db import create_db_engine, unit_of_work
from storage.directory import link_token_hash
from storage.models import (
    Beneficiary,
    Booking,
    Booklet,
    HelpRequest,
    OutboundMessage,
    Slot,
    Voucher,
)

PARIS = ZoneInfo("Europe/Paris")
T = TypeVar("T")


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PASSNUM_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    return runner


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def _read(engine: Engine, query: Callable[[Session], T]) -> T:
    with unit_of_work(engine) as session:
        found = query(session)
        session.expunge_all()  # keep the rows readable after the unit of work rolls back
        return found


def _staff(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(app, ["staff", *args])


def _refused(result: Result, words: str) -> None:
    """A refusal: exit code 2 and one line on stderr that says why."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


def _day(days: int, hour: int) -> str:
    """A local time `days` from now, as typed on the command line (no offset)."""
    moment = datetime.now(PARIS) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=None).isoformat()


def _add_help_request(engine: Engine, beneficiary_id: int | None, text: str) -> int:
    with unit_of_work(engine) as session:
        row = HelpRequest(
            beneficiary_id=beneficiary_id,
            channel="sms",
            address="+33612345678" if beneficiary_id else "+33700000001",
            text=text,
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.commit()
        return row.id or 0


def _slot(capacity: int = 4) -> dict[str, str]:
    """add-slot options: email at place 1, in ten days from 14:00 to 16:00 local time."""
    return {
        "--place": "1",
        "--topic": "email",
        "--starts": _day(10, 14),
        "--ends": _day(10, 16),
        "--capacity": str(capacity),
    }


def _options(options: dict[str, str], **changes: str) -> list[str]:
    """`{"--a": "1"}` with `b="2"` → `["--a", "1", "--b", "2"]`."""
    merged = {**options, **{f"--{k.replace('_', '-')}": v for k, v in changes.items()}}
    return [word for pair in merged.items() for word in pair]


def _new_slot(cli: CliRunner, engine: Engine, capacity: int = 4) -> int:
    added = _staff(cli, "add-slot", *_options(_slot(capacity)))
    assert added.exit_code == 0, added.output
    return _read(engine, lambda s: max(s.scalars(select(Slot.id)).all()))


def test_help_requests_are_listed_and_answered_through_the_outbox(
    cli: CliRunner, db: Engine
) -> None:
    asked = _add_help_request(db, 1, "Je n'arrive pas [à] me connecter")
    listed = _staff(cli, "help-requests")
    assert listed.exit_code == 0, listed.output
    assert "Je n'arrive pas [à] me connecter" in listed.output and "sms" in listed.output

    answered = _staff(cli, "answer", str(asked), "Venez mardi à 10h, nous verrons ensemble.")
    assert answered.exit_code == 0, answered.output
    request = _read(db, lambda s: s.get(HelpRequest, asked))
    assert request is not None and request.answered_at is not None
    sent = _read(
        db,
        lambda s: s.scalars(
            select(OutboundMessage).where(OutboundMessage.dedupe_key == f"help-answer:{asked}")
        ).one(),
    )
    assert sent.address == "+33612345678" and (sent.body or "").startswith("Venez mardi")
    assert "No open help requests" in _staff(cli, "help-requests").output


def test_answer_refuses_an_unknown_or_answered_request(cli: CliRunner, db: Engine) -> None:
    _refused(_staff(cli, "answer", "999", "Bonjour"), "no help request 999")
    asked = _add_help_request(db, 1, "Aide")
    assert _staff(cli, "answer", str(asked), "Bonjour").exit_code == 0
    _refused(_staff(cli, "answer", str(asked), "Encore"), "already answered")


REGISTER = {
    "--booklet": "PN-7777",
    "--first-name": "Zoé",
    "--phone": "06 99 88 77 66",
    "--vouchers": "3",
    "--expires-on": "2030-06-30",
    "--code": "4321",
}


def test_register_creates_the_person_their_booklet_and_vouchers(cli: CliRunner, db: Engine) -> None:
    result = _staff(cli, "register", *_options(REGISTER, language="en", commune="38185"))
    assert result.exit_code == 0, result.output

    def found(session: Session) -> tuple[Beneficiary, int]:
        booklet = session.scalars(select(Booklet).where(Booklet.number == "PN-7777")).one()
        person = session.get(Beneficiary, booklet.beneficiary_id)
        assert person is not None
        vouchers = session.scalars(select(Voucher).where(Voucher.booklet_id == booklet.id)).all()
        return person, len(vouchers)

    person, vouchers = _read(db, found)
    assert (person.first_name, person.phone, person.language) == ("Zoé", "+33699887766", "en")
    assert person.commune_insee == "38185" and vouchers == 3
    assert f"Beneficiary {person.id} registered" in result.output
    _refused(
        _staff(cli, "register", *_options(REGISTER, phone="06 99 88 77 00")),
        "booklet number already exists: PN-7777",
    )


def test_register_never_merges_into_a_known_person(cli: CliRunner, db: Engine) -> None:
    """Aïcha's phone or booklet number (however typed) on a "new" person: refused, untouched."""
    before = _read(db, lambda s: (s.get(Beneficiary, 1), s.get(Booklet, 1)))
    taken_phone = _options(REGISTER, phone="06 12 34 56 78", first_name="Mallory")
    _refused(_staff(cli, "register", *taken_phone), "phone already registered")
    taken_booklet = _options(REGISTER, booklet="pn 0001", first_name="Mallory", code="0000")
    _refused(_staff(cli, "register", *taken_booklet), "booklet number already exists: PN-0001")
    after = _read(db, lambda s: (s.get(Beneficiary, 1), s.get(Booklet, 1)))
    assert [(p.first_name, p.phone) for p in (before[0], after[0])] == [
        ("Aïcha", "+33612345678")
    ] * 2
    assert [(b.number, b.verification_code) for b in (before[1], after[1])] == [
        ("PN-0001", "1234")
    ] * 2
    assert (
        _read(db, lambda s: s.scalars(select(Booklet).where(Booklet.number == "PN-7777")).all())
        == []
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"phone": "12"}, "phone"),
        ({"expires_on": "2030-02-30"}, "--expires-on: '2030-02-30' is not a date"),
        ({"language": "de"}, "language"),
        ({"vouchers": "0"}, "vouchers"),
    ],
)
def test_register_refuses_bad_input(
    cli: CliRunner, db: Engine, change: dict[str, str], words: str
) -> None:
    _refused(_staff(cli, "register", *_options(REGISTER, **change)), words)
    booklet = select(Booklet.id).where(Booklet.number == "PN-7777")
    assert _read(db, lambda s: s.scalars(booklet).all()) == []


def test_phone_is_changed_and_bad_ones_refused(cli: CliRunner, db: Engine) -> None:
    result = _staff(cli, "phone", "1", "06 11 22 33 44")
    assert result.exit_code == 0 and "+33611223344" in result.output
    person = _read(db, lambda s: s.get(Beneficiary, 1))
    assert person is not None and person.phone == "+33611223344"
    _refused(_staff(cli, "phone", "1", "12"), "phone:")
    _refused(_staff(cli, "phone", "999", "0611223344"), "no beneficiary 999")
    other = _read(db, lambda s: s.get(Beneficiary, 2))
    assert other is not None and other.phone
    _refused(_staff(cli, "phone", "1", other.phone), "already the number of another")


def test_beneficiary_file_shows_bookings_and_messages(cli: CliRunner, db: Engine) -> None:
    slot_id = _new_slot(cli, db)
    assert _staff(cli, "book", str(slot_id), "1").exit_code == 0
    assert _staff(cli, "move-slot", str(slot_id), "--starts", _day(11, 9)).exit_code == 0
    shown = _staff(cli, "beneficiary", "1")
    assert shown.exit_code == 0, shown.output
    assert "Aïcha" in shown.output and "PN-0001" in shown.output
    assert "Bookings" in shown.output and "booked" in shown.output
    assert "Latest messages" in shown.output and "queued" in shown.output
    _refused(_staff(cli, "beneficiary", "999"), "no beneficiary 999")


def test_book_a_walk_in_by_booklet_number_and_code(cli: CliRunner, db: Engine) -> None:
    slot_id = _new_slot(cli, db)
    _refused(
        _staff(cli, "book", str(slot_id), "--booklet", "PN-0001", "--code", "0000"),
        "no booklet with this number and verification code",
    )
    _refused(_staff(cli, "book", str(slot_id), "--booklet", "PN-0001"), "go together")
    booked = _staff(cli, "book", str(slot_id), "--booklet", "pn 0001", "--code", "1234")
    assert booked.exit_code == 0 and "beneficiary 1 booked" in booked.output, booked.output


def test_phone_change_tells_the_old_phone(cli: CliRunner, db: Engine) -> None:
    assert _staff(cli, "phone", "1", "06 11 22 33 44").exit_code == 0
    old = select(OutboundMessage.body).where(OutboundMessage.address == "+33612345678")
    [body] = _read(db, lambda s: s.scalars(old).all())
    assert "numéro de téléphone a été changé" in (body or "")


def test_deep_link_links_the_chat_that_opens_it(cli: CliRunner, db: Engine) -> None:
    result = _staff(cli, "deep-link", "1")
    assert result.exit_code == 0, result.output
    person = _read(db, lambda s: s.get(Beneficiary, 1))
    assert person is not None and person.telegram_link_token
    token = result.output.strip().removeprefix("https://t.me/passnum_bot?start=")
    assert person.telegram_link_token == link_token_hash(token)  # kept hashed
    _refused(_staff(cli, "deep-link", "999"), "no beneficiary 999")


def test_add_slot_reads_local_time_and_slots_lists_it(cli: CliRunner, db: Engine) -> None:
    slot_id = _new_slot(cli, db, capacity=6)
    slot = _read(db, lambda s: s.get(Slot, slot_id))
    assert slot is not None and (slot.place_id, slot.topic, slot.capacity) == (1, "email", 6)
    local_start = datetime.fromisoformat(_day(10, 14)).replace(tzinfo=PARIS)
    assert slot.starts_at == local_start and slot.ends_at - slot.starts_at == timedelta(hours=2)

    listed = _staff(cli, "slots", "--place", "1")
    assert listed.exit_code == 0 and local_start.strftime("%Y-%m-%d 14:00") in listed.output
    rows = [line for line in listed.output.splitlines() if line.startswith("│")]
    assert rows and all(line.split("│")[2].strip() == "1" for line in rows)
    assert _staff(cli, "slots").exit_code == 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"starts": "3 décembre"}, "--starts: '3 décembre' is not a time"),
        ({"place": "999"}, "no place 999"),
        ({"topic": "cuisine"}, "unknown topic 'cuisine'"),
        ({"ends": "2020-01-01T10:00"}, "must end after it starts"),
    ],
)
def test_add_slot_refuses_bad_input(
    cli: CliRunner, db: Engine, change: dict[str, str], words: str
) -> None:
    before = _read(db, lambda s: len(s.scalars(select(Slot.id)).all()))
    _refused(_staff(cli, "add-slot", *_options(_slot(), **change)), words)
    assert _read(db, lambda s: len(s.scalars(select(Slot.id)).all())) == before


def test_book_reserves_a_voucher(cli: CliRunner, db: Engine) -> None:
    slot_id = _new_slot(cli, db)
    result = _staff(cli, "book", str(slot_id), "1")
    assert result.exit_code == 0, result.output
    booking = _read(
        db, lambda s: s.scalars(select(Booking).where(Booking.slot_id == slot_id)).one()
    )
    assert (booking.beneficiary_id, booking.status) == (1, "booked")
    voucher = _read(db, lambda s: s.get(Voucher, booking.voucher_id))
    assert voucher is not None and voucher.status == "reserved"
    _refused(_staff(cli, "book", str(slot_id), "1"), "cannot book")
    _refused(_staff(cli, "book", str(slot_id), "999"), "no beneficiary 999")
    _refused(_staff(cli, "book", "99999", "1"), "no slot 99999")


def test_move_slot_tells_the_people_booked(cli: CliRunner, db: Engine) -> None:
    slot_id = _new_slot(cli, db)
    assert _staff(cli, "book", str(slot_id), "1").exit_code == 0
    moved = _staff(cli, "move-slot", str(slot_id), "--starts", _day(12, 9), "--capacity", "5")
    assert moved.exit_code == 0 and "will be told" in moved.output
    slot = _read(db, lambda s: s.get(Slot, slot_id))
    local_start = datetime.fromisoformat(_day(12, 9)).replace(tzinfo=PARIS)
    assert slot is not None and slot.starts_at == local_start and slot.capacity == 5
    assert slot.ends_at - slot.starts_at == timedelta(
        hours=2
    )  # same length when --ends is left out
    told = _read(
        db,
        lambda s: s.scalars(
            select(OutboundMessage).where(OutboundMessage.beneficiary_id == 1)
        ).all(),
    )
    assert len(told) == 1 and told[0].address == "+33612345678"

    resized = _staff(cli, "move-slot", str(slot_id), "--capacity", "6")
    assert resized.exit_code == 0 and "will be told" not in resized.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "say what changes"),
        (("--starts", "demain"), "--starts: 'demain' is not a time"),
        (("--capacity", "0"), "capacity must be at least 1"),
    ],
)
def test_move_slot_refuses_bad_input(
    cli: CliRunner, db: Engine, args: tuple[str, ...], words: str
) -> None:
    slot_id = _new_slot(cli, db)
    _refused(_staff(cli, "move-slot", str(slot_id), *args), words)
    _refused(_staff(cli, "move-slot", "99999", "--capacity", "3"), "no slot 99999")
