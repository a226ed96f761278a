"""Engines and the units of work. Nothing is created at import time.

Two kinds of unit of work: `unit_of_work` for work that writes (on SQLite it takes the write
lock at BEGIN IMMEDIATE, so racing writers queue instead of failing), and `read_only` for work
that only reads (on SQLite a deferred BEGIN: a WAL snapshot that neither waits for nor blocks a
writer). Neither may stay open across a prompt or a network call: another process waiting for
the write lock gives up after the busy timeout with "database is locked".
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

__all__ = ["create_db_engine", "is_sqlite", "read_only", "sqlite_write_lock", "unit_of_work"]

_READ_ONLY = "passnum_read_only"  # an execution option: BEGIN deferred, not IMMEDIATE

SQLITE_BUSY_TIMEOUT_MS = 10_000

# SQLite has one writer at a time. Threads of one process queue on this lock instead of on
# SQLite's busy handler, which sleeps and polls (up to 100 ms a try) and so turns contention
# into long tail latencies. Other processes still wait on the busy timeout.
_SQLITE_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = (
    weakref.WeakKeyDictionary()
)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_write_lock(engine: Engine) -> threading.RLock | None:
    """The lock this process's SQLite writers queue on (None for other databases)."""
    return _SQLITE_WRITE_LOCKS.get(engine)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer writes; the busy timeout makes a second writer
    # wait instead of failing; SQLite leaves foreign keys off unless asked.
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see _begin_immediate
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(conn: Any) -> None:
    # A write transaction takes the write lock at BEGIN, so two racing transactions queue
    # instead of both reading, then one failing to upgrade its lock ("database is locked").
    # A read-only one takes no lock at all.
    read_only = conn.get_execution_options().get(_READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for any SQLAlchemy URL, with SQLite made safe for several writers.

    Its errors never quote a statement's parameters (phone numbers, message texts): they end
    up in tracebacks and logs (`hide_parameters`)."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        _SQLITE_WRITE_LOCKS[engine] = threading.RLock()
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commit explicitly with `session.commit()`; leaving without it rolls back."""
    lock = _SQLITE_WRITE_LOCKS.get(engine)
    with lock if lock is not None else nullcontext():
        session = Session(engine, expire_on_commit=False)
        try:
            yield session
        finally:
            session.rollback()
            session.close()


@contextmanager
def read_only(engine: Engine) -> Iterator[Session]:
    """A transaction that only reads (previews, counts, checks): it never takes SQLite's write
    lock nor this process's writer queue, so it never delays a webhook. Always rolled back."""
    session = Session(engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)
    try:
        yield session
    finally:
        session.rollback()
        session.close()
