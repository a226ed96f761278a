"""The conversation's hot path: every statement an inbound message needs in the common case
(inbound dedupe, identity, flood counts, opt-out, state, balance, bookings, the last booking
notice, the reply), as SQL text written once at import and run on the DB-API cursor of one
connection, in one transaction.

Why not the ORM here: through SQLAlchemy's Session and statement builders each of these costs
0.2-0.8 ms of Python (building the statement, its cache key, compiling the dialect-specific
upserts that are never cached, the result machinery); on the driver's cursor it is a few
microseconds, and the database keeps the statements prepared (sqlite3's statement cache,
psycopg's automatic server-side prepare). See BENCHMARKS.md.

Round trips matter on PostgreSQL: the arrival (identity, dedupe, flood counts, with the
transaction's BEGIN) is one statement, the conversation's reads another, and the writes
nothing reads back (state, reply, last channel) wait for the commit and go with COMMIT in one
pipeline. SQLite runs the same steps one statement after the other, in process.

The rare parts of a conversation (booking a seat, linking a booklet, searching sessions) still
go through the ORM: `session()` opens a Session on the same connection and transaction, once,
when a turn needs it. The tables and the meaning of every row are those of storage.models and
of the ORM functions this store mirrors (storage.conversations, storage.abuse, storage.identity,
storage.opt_outs, storage.notices, storage.directory); the contract tests
(tests/storage/test_conversation_store.py) hold both to the same answers on both databases.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from flows.types import Balance, BeneficiaryView, BookingNotice, BookingView, SlotView
from storage.abuse import InboundLimits, Verdict, address_key, judge_inbound, window_start
from storage.conversation_sql import POSTGRES, SQLITE
from storage.conversations import InboundRecord
from storage.db import sqlite_write_lock
from storage.directory import commune_name
from storage.identity import telegram_chat_id
from storage.notices import NOTICE_LIFETIME, booking_id_of_key
from storage.types import read_utc, sqlite_time

__all__ = [
    "Arrival",
    "Conversation",
    "ConversationStore",
    "Holder",
    "WouldWait",
    "conversation_unit",
]


class WouldWait(Exception):
    """Another writer holds SQLite's write lock: this caller asked not to wait for it."""


# -- values in and out: SQLite keeps datetimes as SQLAlchemy writes them (storage.types) --


def _read_date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Arrival:
    """A message's arrival: who sent it, its stored row (or the first delivery's), and the
    flood counters bumped for it, in the order storage.abuse.judge_inbound asks for them."""

    holder: Holder | None
    record: InboundRecord
    count: Callable[[str, timedelta], int]


@dataclass(frozen=True)
class Conversation:
    """What a turn reads before the flow runs."""

    state: dict[str, Any] | None
    stopped: bool  # the address said STOP (storage.opt_outs)
    notice: BookingNotice | None


def _replay(counted: list[tuple[str, int]]) -> Callable[[str, timedelta], int]:
    """judge_inbound's `count` answered from counts already made, key by key, in order."""
    remaining = list(counted)

    def count(key: str, _window: timedelta) -> int:
        expected, hits = remaining.pop(0)
        assert key == expected, f"counted {expected}, asked for {key}"
        return hits

    return count


@dataclass(frozen=True)
class Holder:
    """The beneficiary behind an address, as the conversation needs them."""

    id: int
    view: BeneficiaryView
    last_channel: str | None


class ConversationStore:
    """The hot path's statements on one connection, inside the caller's transaction."""

    def __init__(
        self, connection: Connection, *, reconnect: Callable[[], Connection] | None = None
    ) -> None:
        """`reconnect` (PostgreSQL, a connection kept between turns and never pinged): a
        fresh connection, in a transaction, for when the turn's first round trip finds this
        one dropped by the server (a restart, an idle timeout, pg_terminate_backend)."""
        self.sqlite = connection.dialect.name == "sqlite"
        self._sql = SQLITE if self.sqlite else POSTGRES
        self._reconnect = reconnect
        self._session: Session | None = None
        self._pending: list[tuple[str, dict[str, Any]]] = []
        # PostgreSQL: the conversation read with the arrival, for (address, now)
        self._read_ahead: tuple[str, datetime, Any] | None = None
        self._attach(connection)

    def _attach(self, connection: Connection) -> None:
        self.connection = connection
        driver = connection.connection.driver_connection
        assert driver is not None
        self._driver = driver
        self._cursor = driver.cursor()

    # -- plumbing ---------------------------------------------------------------------

    def _time(self, moment: datetime) -> Any:
        return sqlite_time(moment) if self.sqlite else moment

    def _first_round_trip(self, send: Callable[[], Any]) -> Any:
        """The turn's first round trip, which also tells whether a kept connection is still
        alive (instead of a ping of its own): if the server dropped it, once more on a fresh
        one. Nothing of the turn was done yet, so nothing is lost or done twice."""
        reconnect, self._reconnect = self._reconnect, None  # only the first statement
        if reconnect is None:
            return send()
        dialect = self.connection.dialect
        try:
            return send()
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, self._driver, self._cursor):
                raise
        dropped = self.connection
        dropped.invalidate()
        dropped.close()
        self._attach(reconnect())
        return send()

    def _run(self, name: str, params: dict[str, Any]) -> Any:
        if self._session is not None:
            self._session.flush()  # the ORM's pending rows go first, as in one Session
        if self._pending:
            self._write_pending()
        self._reconnect = None  # past the turn's first statement: no retry any more
        cursor = self._cursor
        cursor.execute(self._sql[name], params)
        return cursor

    def _write(self, name: str, params: dict[str, Any]) -> None:
        """A write nothing reads back in this turn: sent with the next statement or with
        the commit (on PostgreSQL the last writes and COMMIT go in one round trip)."""
        self._pending.append((name, params))

    def _write_pending(self) -> None:
        pending, self._pending = self._pending, []
        for name, params in pending:
            self._cursor.execute(self._sql[name], params)

    def session(self) -> Session:
        """An ORM Session on this connection and transaction, for the turn's rarer needs."""
        if self._session is None:
            self._session = Session(
                bind=self.connection,
                expire_on_commit=False,
                join_transaction_mode="rollback_only",
            )
        return self._session

    def commit(self) -> None:
        """The ORM's pending rows (if a Session was opened), the pending writes, COMMIT."""
        if self._session is not None:
            self._session.flush()
        if self._pending and not self.sqlite:
            with self._driver.pipeline():  # psycopg: the writes and COMMIT, one round trip
                self._write_pending()
                self.connection.commit()
            return
        self._write_pending()
        self.connection.commit()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self._cursor.close()

    # -- identity, dedupe, flood counts ----------------------------------------------

    def holder(self, *, address: str) -> Holder | None:
        """storage.identity.beneficiary_for_address, the columns a conversation reads."""
        chat_id = telegram_chat_id(address)
        params: dict[str, Any] = (
            {"chat_id": chat_id} if chat_id is not None else {"address": address}
        )
        name = "HOLDER_BY_CHAT" if chat_id is not None else "HOLDER_BY_PHONE"
        row = self._first_round_trip(lambda: self._run(name, params).fetchone())
        return self._holder_of(row) if row is not None else None

    @staticmethod
    def _holder_of(row: Any) -> Holder:
        view = BeneficiaryView(
            id=row[0],
            first_name=row[1],
            language=row[2],
            reminders_enabled=bool(row[3]),
            opted_out=bool(row[4]),
            commune=commune_name(row[5]),
        )
        return Holder(row[0], view, row[6])

    def record_inbound(
        self, *, channel: str, provider_id: str, address: str, body: str | None, now: datetime
    ) -> InboundRecord:
        """storage.conversations.record_inbound: the unique (channel, provider_id) decides."""
        params = {"channel": channel, "provider_id": provider_id}
        inserted = self._run(
            "INBOUND_INSERT", {**params, "address": address, "body": body, "now": self._time(now)}
        ).fetchone()
        if inserted is not None:
            return InboundRecord(inserted[0], duplicate=False)
        first = self._run("INBOUND_FIRST", params).fetchone()
        return InboundRecord(first[0], duplicate=True, reply=first[1])

    def arrive(
        self,
        *,
        channel: str,
        provider_id: str,
        address: str,
        body: str | None,
        now: datetime,
        limits: InboundLimits,
        unknown_answerable: bool,
    ) -> Arrival:
        """holder(), record_inbound() and the flood counts judge_inbound will ask for: on
        PostgreSQL in one statement, on SQLite one statement after the other (the counts
        are made when judge_inbound asks). `unknown_answerable`: an unknown sender on this
        channel and address may be answered at all (else nothing is counted for them)."""
        if self.sqlite:
            holder = self.holder(address=address)
            record = self.record_inbound(
                channel=channel, provider_id=provider_id, address=address, body=body, now=now
            )
            return Arrival(holder, record, lambda key, window: self.count(key, window, now))
        chat_id = telegram_chat_id(address)
        params = {
            "chat_id": chat_id,
            "address": address,
            "channel": channel,
            "provider_id": provider_id,
            "body": body,
            "now": now,
            "address_key": address_key(address),
            "address_window": window_start(now, limits.per_address_window),
            "count_unknown": unknown_answerable,
            "unknown_key": f"u:{channel}",
            "holder_window": window_start(now, limits.per_beneficiary_window),
            "unknown_window": window_start(now, limits.unknown_global_window),
            "per_address": limits.per_address,
        }
        by = "CHAT" if chat_id is not None else "PHONE"
        ahead_params = {
            "chat_id": chat_id,
            "address": address,
            "since": now - NOTICE_LIFETIME,
        }
        row, ahead = self._first_round_trip(
            lambda: self._arrival_rows(
                f"ARRIVAL_BY_{by}", params, f"CONVERSATION_BY_{by}", ahead_params
            )
        )
        self._read_ahead = (address, now, ahead)
        holder = self._holder_of(row[:7]) if row[0] is not None else None
        inbound_id, mine, theirs = row[7:]
        if inbound_id is None:
            first = self._run("INBOUND_FIRST", {"channel": channel, "provider_id": provider_id})
            first_id, reply = first.fetchone()
            return Arrival(holder, InboundRecord(first_id, True, reply), _replay([]))
        counted = [] if mine is None else [(address_key(address), mine)]
        if theirs is not None:
            key = f"b:{holder.id}" if holder is not None else f"u:{channel}"
            counted.append((key, theirs))
        return Arrival(holder, InboundRecord(inbound_id, duplicate=False), _replay(counted))

    def _arrival_rows(
        self, name: str, params: dict[str, Any], ahead_name: str, ahead_params: dict[str, Any]
    ) -> tuple[Any, Any]:
        """The arrival and the conversation's read: psycopg's BEGIN and both statements, one
        round trip (the read is not used when the message is a duplicate or refused)."""
        ahead = self._driver.cursor()
        try:
            with self._driver.pipeline():
                cursor = self._run(name, params)
                ahead.execute(self._sql[ahead_name], ahead_params)
            return cursor.fetchone(), ahead.fetchone()
        finally:
            ahead.close()

    def count(self, key: str, window: timedelta, now: datetime) -> int:
        """storage.abuse.count_inbound: one atomic bump of the window's counter row."""
        start = self._time(window_start(now, window))
        return int(self._run("COUNT_BUMP", {"key": key, "window_start": start}).fetchone()[0])

    def inbound_allowed(
        self,
        *,
        channel: str,
        address: str,
        beneficiary_id: int | None,
        now: datetime,
        limits: InboundLimits,
    ) -> Verdict:
        """storage.abuse.inbound_allowed, the same rule on this store's counters."""
        return judge_inbound(
            lambda key, window: self.count(key, window, now),
            channel=channel,
            address=address,
            beneficiary_id=beneficiary_id,
            limits=limits,
        )

    # -- the conversation --------------------------------------------------------------

    def state(self, *, address: str) -> tuple[dict[str, Any] | None, bool]:
        """The saved state (storage.conversations.load_state) and whether the address said
        STOP (storage.opt_outs.address_opted_out), in one statement."""
        saved, stopped = self._run("STATE_AND_OPT_OUT", {"address": address}).fetchone()
        if isinstance(saved, str):
            saved = json.loads(saved)
        return (dict(saved) if saved is not None else None), bool(stopped)

    def save_state(self, *, address: str, state: dict[str, Any], now: datetime) -> None:
        params = {"address": address, "state": json.dumps(state), "now": self._time(now)}
        self._write("SAVE_STATE", params)

    def save_reply(self, *, inbound_id: int, reply: str | None) -> None:
        self._write("SAVE_REPLY", {"inbound_id": inbound_id, "reply": reply})

    def set_last_channel(self, *, beneficiary_id: int, channel: str) -> None:
        self._write("SET_LAST_CHANNEL", {"beneficiary_id": beneficiary_id, "channel": channel})

    def conversation(self, *, address: str, holder: Holder | None, now: datetime) -> Conversation:
        """state() and last_booking_notice() (for a holder) in one statement."""
        read_ahead, self._read_ahead = self._read_ahead, None
        if read_ahead is not None and read_ahead[:2] == (address, now):
            row = read_ahead[2]  # read with the arrival, for this holder (PostgreSQL)
        else:
            params = {
                "address": address,
                "beneficiary_id": holder.id if holder is not None else None,
                "since": self._time(now - NOTICE_LIFETIME),
            }
            row = self._run("CONVERSATION", params).fetchone()
        saved, stopped, key, sent_at = row
        if isinstance(saved, str):
            saved = json.loads(saved)
        booking_id = booking_id_of_key(key) if key is not None else None
        notice = BookingNotice(booking_id, read_utc(sent_at)) if booking_id is not None else None
        return Conversation(dict(saved) if saved is not None else None, bool(stopped), notice)

    def last_booking_notice(
        self, *, beneficiary_id: int, address: str, now: datetime
    ) -> BookingNotice | None:
        """storage.notices.last_booking_notice."""
        params = {
            "beneficiary_id": beneficiary_id,
            "address": address,
            "since": self._time(now - NOTICE_LIFETIME),
        }
        row = self._run("LAST_NOTICE", params).fetchone()
        if row is None or row[0] is None:
            return None
        booking_id = booking_id_of_key(row[0])
        return BookingNotice(booking_id, read_utc(row[1])) if booking_id is not None else None

    # -- the flows' common lookups (storage.directory.DatabaseDirectory) --------------

    def balance(self, *, beneficiary_id: int, now: datetime) -> Balance:
        today = now.date()
        params = {
            "beneficiary_id": beneficiary_id,
            "today": today.isoformat() if self.sqlite else today,
        }
        rows = self._run("BALANCE", params).fetchall()
        counts = {
            status: (count, _read_date(expiry), value) for status, count, expiry, value in rows
        }
        available = counts.get("available", (0, None, 1000))
        reserved = counts.get("reserved", (0, None, 1000))
        return Balance(
            available=available[0],
            value_cents=available[2] or reserved[2] or 1000,
            next_expiry=available[1],
            reserved=reserved[0],
        )

    def bookings(self, *, beneficiary_id: int, now: datetime) -> list[BookingView]:
        params = {"beneficiary_id": beneficiary_id, "now": self._time(now)}
        return [
            BookingView(
                id=row[0],
                slot=SlotView(
                    id=row[1],
                    place_name=row[2],
                    address=row[3],
                    commune=row[4],
                    starts_at=read_utc(row[5]),
                    ends_at=read_utc(row[6]),
                    topic=row[7],
                    free_seats=max(row[8] - row[9], 0),
                    place_phone=row[10],
                ),
            )
            for row in self._run("BOOKINGS", params).fetchall()
        ]


# SQLite: the event loop's turns run on one connection of their own per engine, kept open
# between turns (no pool checkout and check-in, no busy-timeout toggling a turn), closed with
# the engine. It is only used under the process's write lock, so by one thread at a time.
_LOOP_CONNECTIONS: dict[Engine, Connection] = {}
_LOOP_CONNECTIONS_LOCK = threading.Lock()


def _loop_connection(engine: Engine) -> Connection:
    """The loop's connection: its busy timeout is 0 for good, so a write lock held by another
    process makes BEGIN IMMEDIATE fail at once (WouldWait) instead of blocking the loop."""
    connection = _LOOP_CONNECTIONS.get(engine)
    if connection is not None and not connection.closed and not connection.invalidated:
        return connection
    connection = engine.connect()
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA busy_timeout=0")
    with _LOOP_CONNECTIONS_LOCK:
        if engine not in _LOOP_CONNECTIONS:
            event.listen(engine, "engine_disposed", _close_loop_connection)
        _LOOP_CONNECTIONS[engine] = connection
    return connection


def _close_loop_connection(engine: Engine) -> None:
    with _LOOP_CONNECTIONS_LOCK:
        connection = _LOOP_CONNECTIONS.pop(engine, None)
    if connection is not None:  # closed for good: never back in a pool with no busy timeout
        connection.invalidate()
        connection.close()


# PostgreSQL: the conversation threads' connections stay checked out between turns, in a free
# list per engine (at most one per conversation thread, bot.server's conversation_limiter).
# A pool checkout would ping the server first (`pool_pre_ping`, a round trip of its own every
# turn); a kept connection is not pinged: the turn's first statement finds out whether the
# server dropped it, and the turn then goes on a fresh one (ConversationStore._first_round_trip).
KEPT_CONNECTIONS = 8
_KEPT: dict[Engine, list[Connection]] = {}
_KEPT_LOCK = threading.Lock()


def _kept_connection(engine: Engine) -> Connection:
    with _KEPT_LOCK:
        kept = _KEPT.get(engine)
        if kept:
            return kept.pop()
    return engine.connect()


def _keep(engine: Engine, connection: Connection) -> None:
    """Back in the free list if it is healthy and there is room, else closed (to the pool)."""
    if connection.closed:
        return
    if connection.in_transaction() and not connection.invalidated:
        try:
            connection.rollback()
        except Exception:  # the connection broke during the turn: not kept
            connection.invalidate()
    driver = connection.connection.driver_connection if not connection.invalidated else None
    if driver is not None and not driver.closed and not getattr(driver, "broken", False):
        with _KEPT_LOCK:
            kept = _KEPT.get(engine)
            if kept is None:
                kept = _KEPT[engine] = []
                event.listen(engine, "engine_disposed", _close_kept)
            if len(kept) < KEPT_CONNECTIONS:
                kept.append(connection)
                return
    connection.close()


def _close_kept(engine: Engine) -> None:
    with _KEPT_LOCK:
        kept = _KEPT.pop(engine, [])
    for connection in kept:
        connection.close()


def _fresh_transaction(engine: Engine) -> Connection:
    connection = engine.connect()  # from the pool, pinged
    connection.begin()
    return connection


@contextmanager
def _kept_turn(engine: Engine) -> Iterator[ConversationStore]:
    connection = _kept_connection(engine)
    try:
        connection.begin()
        store = ConversationStore(connection, reconnect=lambda: _fresh_transaction(engine))
    except BaseException:
        connection.close()
        raise
    try:
        yield store
    finally:
        try:
            store.close()
        finally:
            _keep(engine, store.connection)


@contextmanager
def _turn(connection: Connection) -> Iterator[ConversationStore]:
    store = ConversationStore(connection)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def conversation_unit(engine: Engine, *, wait: bool = True) -> Iterator[ConversationStore]:
    """One transaction on one connection for one inbound message. Commit with
    `store.commit()`; leaving without it rolls back.

    `wait=False` (SQLite) raises WouldWait instead of waiting for another writer (a thread
    of this process or another process): the caller runs on the event loop, which must not
    block, and retries in a thread."""
    lock = sqlite_write_lock(engine)
    if lock is None:
        with _kept_turn(engine) as store:
            yield store
        return
    if not lock.acquire(blocking=wait):
        raise WouldWait
    try:
        if wait:
            with engine.connect() as connection:
                connection.begin()  # BEGIN IMMEDIATE on SQLite (storage.db)
                with _turn(connection) as store:
                    yield store
            return
        connection = _loop_connection(engine)
        try:
            connection.begin()
        except OperationalError as error:  # another process holds the write lock
            raise WouldWait from error
        try:
            with _turn(connection) as store:
                yield store
        finally:
            if connection.in_transaction():
                connection.rollback()
    finally:
        lock.release()
