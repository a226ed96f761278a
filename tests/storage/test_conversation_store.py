"""The conversation store's contract: each prepared statement answers what the ORM function it
stands for answers, on the same rows, on SQLite and PostgreSQL; rows it writes are the ORM's
rows (same keys, same datetimes); its transaction is one unit with the ORM Session it opens."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.outbox.notices import notice_composer
from config import load_settings
from storage.abuse import (
    InboundLimits,
    count_inbound,
    inbound_allowed,
    judge_inbound,
    purge_inbound_counts,
)
from storage.booking import reserve_seat
from storage.conversation_store import WouldWait, conversation_unit
from storage.conversations import load_state, record_inbound, save_inbound_reply, save_state
from storage.db import create_db_engine, is_sqlite, unit_of_work
from storage.directory import DatabaseDirectory, beneficiary_view
from storage.geo import default_resolver
from storage.identity import beneficiary_for_address
from storage.models import Beneficiary, InboundCount, InboundMessage, OutboundMessage
from storage.notices import last_booking_notice
from storage.opt_outs import record_address_opt_out
from storage.phones import is_french
from tests import factories
from tests.factories import NOW

PHONE = "+33612340001"
WINDOW = timedelta(hours=1)


def _person(engine: Engine, phone: str = PHONE, **extra: object) -> int:
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session, phone=phone)
        for name, value in extra.items():
            setattr(person, name, value)
        session.commit()
        return person.id or 0


def test_inbound_dedupe_is_shared_with_the_orm(engine: Engine) -> None:
    with conversation_unit(engine) as store:
        first = store.record_inbound(
            channel="sms", provider_id="SM1", address=PHONE, body="1", now=NOW
        )
        again = store.record_inbound(
            channel="sms", provider_id="SM1", address=PHONE, body="1", now=NOW
        )
        store.save_reply(inbound_id=first.id, reply="the answer")
        store.commit()
    assert not first.duplicate and again.duplicate and again.id == first.id
    with unit_of_work(engine) as session:
        seen = record_inbound(
            session, channel="sms", provider_id="SM1", address=PHONE, body="1", now=NOW
        )
        assert seen.duplicate and seen.reply == "the answer"
        other = record_inbound(
            session, channel="sms", provider_id="SM2", address=PHONE, body="2", now=NOW
        )
        save_inbound_reply(session, inbound_id=other.id, reply="second")
        session.commit()
        row = session.get(InboundMessage, first.id)
        assert row is not None and row.received_at == NOW and row.body == "1"
    with conversation_unit(engine) as store:
        repeated = store.record_inbound(
            channel="sms", provider_id="SM2", address=PHONE, body="2", now=NOW
        )
        assert repeated.duplicate and repeated.reply == "second" and repeated.id == other.id
        other_channel = store.record_inbound(
            channel="telegram", provider_id="SM2", address="tg:5", body=None, now=NOW
        )
        assert not other_channel.duplicate


def test_flood_counts_share_the_orm_counter_rows(engine: Engine) -> None:
    """The same (key, window) row whichever side bumps it; the purge finds the store's rows."""
    later = NOW + timedelta(minutes=59)
    with conversation_unit(engine) as store:
        assert [store.count("k", WINDOW, NOW), store.count("k", WINDOW, later)] == [1, 2]
        store.commit()
    with unit_of_work(engine) as session:
        assert count_inbound(session, key="k", window=WINDOW, now=NOW) == 3
        session.commit()
    with conversation_unit(engine) as store:
        assert store.count("k", WINDOW, NOW) == 4
        assert store.count("k", WINDOW, NOW + timedelta(hours=1)) == 1  # the next window
        store.commit()
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(InboundCount)) == 2
        assert purge_inbound_counts(session, before=NOW + timedelta(minutes=1)) == 1
        session.commit()


@pytest.mark.parametrize("known", [True, False])
def test_flood_verdicts_match_the_orm_rule(engine: Engine, known: bool) -> None:
    """Message after message, the store and the ORM judge alike (each on its own address)."""
    limits = InboundLimits(
        per_address=4, per_beneficiary=6, unknown_global=5, unknown_over_cap_per_address=2
    )
    holder = _person(engine) if known else None
    verdicts: dict[str, list[str | None]] = {"store": [], "orm": []}
    for n in range(12):
        address = f"+3361234{n % 3:04d}"
        with conversation_unit(engine) as store:
            verdict = store.inbound_allowed(
                channel="sms", address=address, beneficiary_id=holder, now=NOW, limits=limits
            )
            verdicts["store"].append(verdict.limit if not verdict.allowed else None)
            store.connection.rollback()  # the ORM side counts the same messages again
        with unit_of_work(engine) as session:
            verdict = inbound_allowed(
                session,
                channel="sms",
                address=address,
                beneficiary_id=holder,
                now=NOW,
                limits=limits,
            )
            verdicts["orm"].append(verdict.limit if not verdict.allowed else None)
            session.commit()
    assert verdicts["store"] == verdicts["orm"]
    assert set(verdicts["orm"]) > {None}  # some were refused: the limits were reached


def test_state_and_opt_out_read_and_written_like_the_orm(engine: Engine) -> None:
    state = {"step": "menu", "language": "en", "data": {"é": [1, 2.5, None, True]}}
    with conversation_unit(engine) as store:
        assert store.state(address=PHONE) == (None, False)
        store.save_state(address=PHONE, state=state, now=NOW)
        store.commit()
    with unit_of_work(engine) as session:
        assert load_state(session, address=PHONE) == state
        save_state(session, address="tg:42", state={"step": "x"}, now=NOW)
        record_address_opt_out(session, channel="telegram", address="tg:42", now=NOW)
        session.commit()
    with conversation_unit(engine) as store:
        assert store.state(address="tg:42") == ({"step": "x"}, True)
        store.save_state(address="tg:42", state={"step": "y"}, now=NOW + WINDOW)
        store.commit()
    with unit_of_work(engine) as session:
        assert load_state(session, address="tg:42") == {"step": "y"}


def test_holder_is_the_orm_beneficiary(engine: Engine) -> None:
    person = _person(engine, commune_insee="38185", last_channel="telegram")
    chat_person = _person(engine, phone="+33612340002", telegram_chat_id=777, opted_out=True)
    _person(engine, phone="+33612340003", erased_at=NOW)
    with unit_of_work(engine) as session:
        expected = {}
        for address in (PHONE, "tg:777", "+33612340003", "+33699999999"):
            row = beneficiary_for_address(session, channel="sms", address=address)
            expected[address] = row and (beneficiary_view(row), row.last_channel)
    with conversation_unit(engine) as store:
        for address, seen in expected.items():
            found = store.holder(address=address)
            assert (found and (found.view, found.last_channel)) == seen
    assert expected[PHONE] and expected[PHONE][0].id == person
    assert expected["tg:777"] and expected["tg:777"][0].id == chat_person
    assert expected[PHONE][1] == "telegram" and expected["tg:777"][0].opted_out
    assert expected["+33612340003"] is None


def _booked(engine: Engine) -> tuple[int, int]:
    with unit_of_work(engine) as session:
        place = factories.place(session)
        person = factories.beneficiary(session, phone=PHONE, vouchers=4)
        for days in (3, 1, 2):
            slot = factories.slot(
                session, place_id=place.id or 0, starts_at=NOW + timedelta(days=days)
            )
            booking = reserve_seat(
                session, beneficiary_id=person.id or 0, slot_id=slot.id or 0, now=NOW
            )
        past = factories.slot(session, place_id=place.id or 0, starts_at=NOW + timedelta(hours=1))
        reserve_seat(session, beneficiary_id=person.id or 0, slot_id=past.id or 0, now=NOW)
        for key, status, age in (
            (f"j1:booking:{booking.id}", "sent", timedelta(hours=3)),
            (f"slot-moved:booking:{booking.id}:x", "delivered", timedelta(hours=2)),
            ("broadcast:1", "sent", timedelta(hours=1)),
            (f"h2:booking:{booking.id}", "failed", timedelta(hours=1)),
        ):
            session.add(
                OutboundMessage(
                    channel="sms",
                    address=PHONE,
                    beneficiary_id=person.id,
                    body="x",
                    dedupe_key=key,
                    status=status,
                    next_attempt_at=NOW,
                    created_at=NOW,
                    updated_at=NOW - age,
                )
            )
        session.commit()
        return person.id or 0, booking.id or 0


@pytest.mark.parametrize("hours", [0, 2, 23, 30])
def test_lookups_answer_what_the_directory_answers(engine: Engine, hours: int) -> None:
    """Balance, upcoming bookings (in order, the past one left out once it started) and the
    last booking notice, at several moments."""
    person, booking = _booked(engine)
    now = NOW + timedelta(hours=hours)
    with unit_of_work(engine) as session:
        directory = DatabaseDirectory(
            session, resolver=default_resolver(), now=now, notices=notice_composer(load_settings())
        )
        balance, bookings = directory.balance(person), directory.bookings(person)
        notice = last_booking_notice(session, beneficiary_id=person, address=PHONE, now=now)
    with conversation_unit(engine) as store:
        assert store.balance(beneficiary_id=person, now=now) == balance
        assert store.bookings(beneficiary_id=person, now=now) == bookings
        found = store.last_booking_notice(beneficiary_id=person, address=PHONE, now=now)
        assert found == notice
    assert balance.reserved == 4 and balance.available == 0
    assert len(bookings) == {0: 4, 2: 3, 23: 3, 30: 2}[hours]  # slots at +1 h, +1, +2, +3 days
    assert (notice is not None) == (hours < 22)
    if notice is not None:
        assert notice.booking_id == booking


def test_store_and_session_are_one_transaction(engine: Engine) -> None:
    """Rows the ORM session adds are flushed before the store's next statement and commit
    with it; leaving without a commit keeps nothing of either."""
    person = _person(engine)
    for commit in (False, True):
        with conversation_unit(engine) as store:
            store.record_inbound(
                channel="sms", provider_id=f"SM{commit}", address=PHONE, body=None, now=NOW
            )
            store.session().add(
                Beneficiary(first_name="Nouvelle", phone="+33611111111", created_at=NOW)
            )
            assert store.holder(address="+33611111111") is not None  # flushed first
            store.set_last_channel(beneficiary_id=person, channel="telegram")
            if commit:
                store.commit()
        with unit_of_work(engine) as session:
            stored = session.scalar(select(func.count()).select_from(InboundMessage))
            added = beneficiary_for_address(session, channel="sms", address="+33611111111")
            channel = session.get(Beneficiary, person).last_channel  # type: ignore[union-attr]
        assert (stored, added is not None, channel) == (
            (1, True, "telegram") if commit else (0, False, None)
        )


def test_without_wait_another_writer_is_not_waited_for(engine: Engine) -> None:
    """SQLite: a writer thread of this process, or another connection's write transaction
    (another process), makes `wait=False` give up at once; with them gone it proceeds."""
    if not is_sqlite(engine):
        pytest.skip("PostgreSQL conversations run in threads: nothing to refuse")
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with unit_of_work(engine) as session:
            holding.set()
            release.wait(10)
            session.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    holding.wait(10)
    started = datetime.now(UTC)
    with pytest.raises(WouldWait), conversation_unit(engine, wait=False):
        pass
    release.set()
    thread.join()
    other = create_db_engine(str(engine.url))  # its own lock: like another process
    with other.connect() as connection:
        connection.begin()  # BEGIN IMMEDIATE: holds SQLite's write lock
        with pytest.raises(WouldWait), conversation_unit(engine, wait=False):
            pass
    other.dispose()
    assert datetime.now(UTC) - started < timedelta(seconds=2)  # never the 10 s busy timeout
    with conversation_unit(engine, wait=False) as store:
        assert store.count("k", WINDOW, NOW) == 1
        store.commit()
    with Session(engine) as session:  # the busy timeout is back on the pooled connection
        timeout = session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert timeout == 10_000


def _orm_verdict(
    engine: Engine, channel: str, address: str, sid: str, now: datetime, limits: InboundLimits
) -> str | None:
    """What the ORM path decided for one message (the assistant before the store)."""
    with unit_of_work(engine) as session:
        holder = beneficiary_for_address(session, channel=channel, address=address)
        record = record_inbound(
            session, channel=channel, provider_id=sid, address=address, body="x", now=now
        )
        assert not record.duplicate
        if channel == "sms" and holder is None and not is_french(address):
            return "foreign"
        verdict = inbound_allowed(
            session,
            channel=channel,
            address=address,
            beneficiary_id=holder.id if holder else None,
            now=now,
            limits=limits,
        )
        session.commit()
        return verdict.limit


def _store_verdict(
    engine: Engine, channel: str, address: str, sid: str, now: datetime, limits: InboundLimits
) -> str | None:
    with conversation_unit(engine) as store:
        answerable = channel != "sms" or is_french(address)
        arrival = store.arrive(
            channel=channel,
            provider_id=sid,
            address=address,
            body="x",
            now=now,
            limits=limits,
            unknown_answerable=answerable,
        )
        again = store.arrive(
            channel=channel,
            provider_id=sid,
            address=address,
            body="x",
            now=now,
            limits=limits,
            unknown_answerable=answerable,
        )
        assert again.record.duplicate and again.record.id == arrival.record.id
        holder = arrival.holder
        if holder is None and not answerable:
            store.commit()
            return "foreign"
        verdict = judge_inbound(
            arrival.count,
            channel=channel,
            address=address,
            beneficiary_id=holder.id if holder else None,
            limits=limits,
        )
        store.commit()
        return verdict.limit


@pytest.mark.parametrize("senders", ["known", "unknown", "foreign", "telegram"])
def test_arrival_judges_a_burst_like_the_orm_path(engine: Engine, senders: str) -> None:
    """The same burst through `arrive` (one statement on PostgreSQL) and through the ORM
    path, in two different windows: the same verdicts; a foreign unknown number is not
    counted at all; a repeated delivery is not counted again."""
    limits = InboundLimits(
        per_address=4, per_beneficiary=6, unknown_global=5, unknown_over_cap_per_address=2
    )
    prefix = {"known": "+3361234", "unknown": "+3361234", "foreign": "+4479460"}.get(senders)
    addresses = [f"{prefix}{n % 3:04d}" if prefix else f"tg:9{n % 3}" for n in range(14)]
    if senders == "known":
        for address in set(addresses):
            _person(engine, phone=address)
    channel = "telegram" if senders == "telegram" else "sms"
    later = NOW + timedelta(days=1)
    ours = [
        _store_verdict(engine, channel, a, f"S{n}", NOW, limits) for n, a in enumerate(addresses)
    ]
    with unit_of_work(engine) as session:
        counters = session.scalar(select(func.count()).select_from(InboundCount))
    theirs = [
        _orm_verdict(engine, channel, a, f"O{n}", later, limits) for n, a in enumerate(addresses)
    ]
    assert ours == theirs
    assert (counters == 0) == (senders == "foreign")
    assert len(set(ours)) > 1 or senders == "foreign"  # the limits were reached


def test_conversation_reads_state_stop_and_notice_at_once(engine: Engine) -> None:
    person, booking = _booked(engine)
    with conversation_unit(engine) as store:
        holder = store.holder(address=PHONE)
        store.save_state(address=PHONE, state={"step": "menu"}, now=NOW)
        read = store.conversation(address=PHONE, holder=holder, now=NOW)  # sees the write
        anonymous = store.conversation(address=PHONE, holder=None, now=NOW)
        store.commit()
    assert read.state == {"step": "menu"} and not read.stopped
    assert read.notice is not None and read.notice.booking_id == booking
    assert anonymous.notice is None and anonymous.state == read.state
    with unit_of_work(engine) as session:
        record_address_opt_out(session, channel="sms", address=PHONE, now=NOW)
        session.commit()
    with conversation_unit(engine) as store:
        assert store.conversation(address=PHONE, holder=holder, now=NOW).stopped


def test_the_loop_turns_keep_one_connection_until_the_engine_is_disposed(
    database_url: str,
) -> None:
    """SQLite: turns on the event loop (`wait=False`) reuse one connection, whose busy
    timeout is 0; disposing of the engine closes it."""
    engine = create_db_engine(database_url)
    if not is_sqlite(engine):
        engine.dispose()
        pytest.skip("PostgreSQL conversations run in threads on the pool")
    drivers = []
    for n in range(3):
        with conversation_unit(engine, wait=False) as store:
            drivers.append(store.connection.connection.driver_connection)
            assert store.count("k", WINDOW, NOW) == n + 1
            store.commit()
    assert drivers[0] is drivers[1] is drivers[2]
    assert drivers[0].execute("PRAGMA busy_timeout").fetchone() == (0,)
    engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        drivers[0].execute("SELECT 1")
