"""Inbound flood limits, counted in the database so they hold across threads and processes.

Each limit is a counter row per (key, fixed window), bumped by one
`INSERT … ON CONFLICT DO UPDATE … RETURNING` in the message's own transaction. The database
serialises the bumps of one row (PostgreSQL row lock, SQLite single writer), so 40 messages at
once from one number get the counts 1 … 40 and exactly `per_address` of them are answered.

The limits, in order (a message refused by one is not counted by the next):

1. per address: one phone number or Telegram chat, known or not;
2. per beneficiary (a known booklet holder): all their addresses together;
3. unknown addresses together, per channel. Over that cap an unknown address is still
   answered for its first `unknown_over_cap_per_address` messages of the hour (enough to say
   hello, then give the booklet number and code), so a flood never silences a newcomer, while
   what a flood costs grows only with the number of distinct numbers behind it.

Counter rows are locked in that order (address, then beneficiary or channel), so two
transactions never wait for each other in a cycle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session

from storage.conversations import dialect_insert
from storage.models import InboundCount

__all__ = [
    "InboundLimits",
    "address_key",
    "Verdict",
    "count_inbound",
    "inbound_allowed",
    "judge_inbound",
    "purge_inbound_counts",
    "window_start",
]

_TABLE = InboundCount.__table__  # type: ignore[attr-defined]
_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday at midnight: windows align on the clock


@dataclass(frozen=True)
class InboundLimits:
    """Beyond these, a message is stored but gets no reply (a reply costs money, and an
    SMS-pumping attack is paid by the answers it provokes)."""

    per_address: int = 30  # messages from one address per window
    per_address_window: timedelta = timedelta(hours=1)
    per_beneficiary: int = 60  # messages from all the addresses of one holder per window
    per_beneficiary_window: timedelta = timedelta(hours=1)
    unknown_global: int = 300  # messages from unknown addresses of one channel per window
    unknown_global_window: timedelta = timedelta(minutes=10)
    unknown_over_cap_per_address: int = 3  # still answered per new address over that cap


@dataclass(frozen=True)
class Verdict:
    """Whether to answer, and which limit said no. `{"allowed": false, "limit": "address"}`"""

    allowed: bool
    limit: str | None = None


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window holding `now`."""
    return now - (now - _EPOCH) % window


def address_key(address: str) -> str:
    """A digest, not the number: the counters hold no phone number or chat id."""
    return "a:" + hashlib.sha256(address.encode()).hexdigest()[:40]


def count_inbound(session: Session, *, key: str, window: timedelta, now: datetime) -> int:
    """Add one message to the key's counter for the current window; returns the new count."""
    statement = dialect_insert(session, _TABLE).values(
        key=key, window_start=window_start(now, window), hits=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=[_TABLE.c.key, _TABLE.c.window_start],
        set_={"hits": _TABLE.c.hits + 1},
    ).returning(_TABLE.c.hits)
    return int(session.execute(statement).scalar_one())


def inbound_allowed(
    session: Session,
    *,
    channel: str,
    address: str,
    beneficiary_id: int | None,
    now: datetime,
    limits: InboundLimits,
) -> Verdict:
    """Count the message against the limits (in the caller's transaction) and judge it."""
    return judge_inbound(
        lambda key, window: count_inbound(session, key=key, window=window, now=now),
        channel=channel,
        address=address,
        beneficiary_id=beneficiary_id,
        limits=limits,
    )


def judge_inbound(
    count: Callable[[str, timedelta], int],
    *,
    channel: str,
    address: str,
    beneficiary_id: int | None,
    limits: InboundLimits,
) -> Verdict:
    """The limits' rule, whatever bumps the counters: `count(key, window)` adds one message
    to that key's counter for the current window and returns the new count (the ORM path,
    `count_inbound`, and the conversation store's prepared statement share this rule)."""
    mine = count(address_key(address), limits.per_address_window)
    if mine > limits.per_address:
        return Verdict(False, "address")
    if beneficiary_id is not None:
        theirs = count(f"b:{beneficiary_id}", limits.per_beneficiary_window)
        return Verdict(True) if theirs <= limits.per_beneficiary else Verdict(False, "beneficiary")
    unknown = count(f"u:{channel}", limits.unknown_global_window)
    if unknown <= limits.unknown_global or mine <= limits.unknown_over_cap_per_address:
        return Verdict(True)
    return Verdict(False, "unknown")


def purge_inbound_counts(session: Session, *, before: datetime) -> int:
    """Forget counters of windows that started before `before` (the scheduler's purge)."""
    result = session.execute(delete(_TABLE).where(_TABLE.c.window_start < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
