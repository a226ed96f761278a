"""Shared SQL of the reminder modules: dedupe keys, who may get reminders, stale cancellation.

Nothing goes to cancelled bookings or slots, people who turned reminders off, opted out or were
erased: `reachable()` keeps them out of planning, and their queued reminders are cancelled at
each planning pass (and by the dispatcher, which asks `is_reminder` before sending to someone
with reminders off).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, exists, literal, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session

from storage.models import Beneficiary, Booking, BookingStatus, Slot
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S

__all__ = [
    "REMINDER_PREFIXES",
    "cancel_queued",
    "cancel_stale",
    "existing_keys",
    "is_reminder",
    "not_in_outbox",
    "outbox_key",
    "reachable",
]

REMINDER_PREFIXES = ("j1:", "h2:", "expiry30:", "expiry7:", "noshow:")


def is_reminder(dedupe_key: str | None) -> bool:
    """Reminders stop when a person turns reminders off; other messages do not."""
    return bool(dedupe_key) and dedupe_key.startswith(REMINDER_PREFIXES)  # type: ignore[union-attr]


def reachable() -> Any:
    """SQL condition: the beneficiary wants reminders and may be written to."""
    return (
        Beneficiary.reminders_enabled.is_(True)
        & Beneficiary.opted_out.is_(False)  # type: ignore[attr-defined]
        & Beneficiary.erased_at.is_(None)
    )  # type: ignore[union-attr]


def outbox_key(prefix: str, column: Any) -> Any:
    """SQL for "<prefix><id>", to anti-join candidates with the outbox's dedupe keys."""
    return literal(prefix) + cast(column, String)


def not_in_outbox(key: Any) -> Any:
    return ~exists().where(Msg.dedupe_key == key)


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    wanted, found = sorted(set(keys)), set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found |= set(session.scalars(select(Msg.dedupe_key).where(Msg.dedupe_key.in_(chunk))))  # type: ignore[union-attr]
    return found  # type: ignore[return-value]


def cancel_stale(session: Session, *, now: datetime) -> int:
    """Cancel queued reminders nobody should get any more; returns how many."""
    dead = (
        select(Booking.id)
        .join(Slot, Slot.id == Booking.slot_id)  # type: ignore[arg-type]
        .where(
            (Booking.status != BookingStatus.BOOKED.value) | Slot.cancelled.is_(True),  # type: ignore[attr-defined]
            Slot.starts_at > now - timedelta(days=1),
        )
    )  # type: ignore[operator]
    sub = dead.subquery()
    stale_keys = select(outbox_key("j1:booking:", sub.c.id)).union_all(
        select(outbox_key("h2:booking:", sub.c.id))
    )
    n = _cancel_stale(session, now, "booking cancelled", Msg.dedupe_key.in_(stale_keys))  # type: ignore[union-attr]
    gone = select(Beneficiary.id).where(
        Beneficiary.opted_out.is_(True)  # type: ignore[attr-defined]
        | Beneficiary.erased_at.is_not(None)
    )  # type: ignore[union-attr]
    n += _cancel_stale(session, now, "opted out", Msg.beneficiary_id.in_(gone))  # type: ignore[union-attr]
    quiet = select(Beneficiary.id).where(Beneficiary.reminders_enabled.is_(False))  # type: ignore[attr-defined]
    is_rem = or_(*(Msg.dedupe_key.startswith(p) for p in REMINDER_PREFIXES))  # type: ignore[union-attr]
    return n + _cancel_stale(session, now, "reminders off", Msg.beneficiary_id.in_(quiet) & is_rem)  # type: ignore[union-attr]


def cancel_queued(session: Session, now: datetime, reason: str, condition: Any) -> int:
    """Cancel the still-queued outbox rows matching `condition`, with `reason` as error."""
    result = session.execute(
        update(Msg)
        .where(Msg.status == S.QUEUED.value, condition)
        .values(status=S.CANCELLED.value, error=reason, updated_at=now)
    )
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


def _cancel_stale(session: Session, now: datetime, reason: str, condition: Any) -> int:
    """`cancel_queued`, found through the index of `condition` rather than the status one:
    every planned reminder is queued, so on SQLite (no statistics) reading "queued" rows
    first means reading them all, every minute."""
    result = session.execute(
        update(Msg)
        .where(_not_indexed(Msg.status) == S.QUEUED.value, condition)
        .values(status=S.CANCELLED.value, error=reason, updated_at=now)
    )
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


class _not_indexed(FunctionElement[str]):  # noqa: N801  # reads as SQL, like func.x
    """The column, not to be searched through an index (SQLite: unary `+`)."""

    inherit_cache = True
    type = String()


@compiles(_not_indexed)
def _plain_column(element: _not_indexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_not_indexed, "sqlite")
def _sqlite_column(element: _not_indexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)
