"""The staff service: run one command's handler in one unit of work, audit refusals.

    service.handle(staff, CancelSlot(slot_id=7), origin="POST /staff/slots/7/cancel")

The handler gets a `Context` (the session, who acts, the settings, the time) and returns a
result the front-end formats. A `StaffRefused` raised by the handler rolls its work back, is
written to the audit log (`refused.<kind>`, the origin as record) in a transaction of its own,
and raised again for the front-end to word (HTTP status, console page, CLI line, chat reply).
Commands that only read (`read_only = True`) run in a read-only transaction: on SQLite they
never wait for, nor delay, a webhook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy.engine import Engine
from sqlmodel import Session

from config import Settings
from storage.db import read_only, unit_of_work
from storage.staff import StaffIdentity, StaffRefused, actor_of, audit

__all__ = ["Command", "Context", "Handler", "StaffService", "utc_now"]

R = TypeVar("R")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Command(Generic[R]):
    """A request for one staff action; `R` is what its handler returns. Subclasses are frozen
    dataclasses named in the imperative (`CancelSlot`), or as the question for reads."""

    read_only: ClassVar[bool] = False


@dataclass(frozen=True)
class Context:
    """What a handler works with: one open transaction, who acts, the settings, the time."""

    session: Session
    staff: StaffIdentity
    settings: Settings
    now: datetime

    @property
    def actor(self) -> str:
        """How the audit log names who acts (`staff:3:Nadia`, `cli`, `bootstrap-admin`)."""
        return actor_of(self.staff)

    def audit(self, action: str, record: str | None, detail: str | None = None) -> None:
        audit(
            self.session,
            actor=self.actor,
            action=action,
            record=record,
            detail=detail,
            now=self.now,
        )


Handler = Callable[[Context, Any], Any]


class StaffService:
    """One instance per process, built by `bot.bootstrap.build_staff_service`."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        handlers: Mapping[type[Command[Any]], Handler],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self._handlers = dict(handlers)
        self._clock = clock

    def handle(self, staff: StaffIdentity, command: Command[R], *, origin: str | None = None) -> R:
        """Run the command's handler and commit; a refusal is audited, then raised again."""
        handler = self._handlers[type(command)]  # a missing handler is a wiring bug: KeyError
        now = self._clock()
        try:
            if command.read_only:
                with read_only(self.engine) as session:
                    return cast(R, handler(Context(session, staff, self.settings, now), command))
            with unit_of_work(self.engine) as session:
                result = handler(Context(session, staff, self.settings, now), command)
                session.commit()
                return cast(R, result)
        except StaffRefused as refused:
            self.audit_refusal(staff, refused, origin or type(command).__name__, now=now)
            raise

    def audit_refusal(
        self,
        staff: StaffIdentity,
        refused: StaffRefused,
        record: str,
        *,
        now: datetime | None = None,
    ) -> None:
        """Write a refusal to the audit log in a transaction of its own (also used by a
        front-end for a usage error it finds before a command exists)."""
        with unit_of_work(self.engine) as session:
            audit(
                session,
                actor=actor_of(staff),
                action=f"refused.{refused.kind}",
                record=record,
                detail=refused.message,
                now=now or self._clock(),
            )
            session.commit()
