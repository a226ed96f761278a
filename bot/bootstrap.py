"""The one place where staff commands meet their handlers.

Every front-end gets its `StaffService` from `build_staff_service`: the server keeps one on
`app.state.services.staff`, the CLI builds one per command. A command family adds its
`HANDLERS` mapping to `_FAMILIES`, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.staff import (
    bookings,
    broadcasts,
    help,
    jobs,
    members,
    people,
    places,
    privacy,
    slots,
    stats,
)
from bot.staff.service import Handler, StaffService, utc_now
from config import Settings

__all__ = ["build_staff_service", "staff_handlers"]

_FAMILIES: tuple[dict[type[Any], Handler], ...] = (
    privacy.HANDLERS,
    slots.HANDLERS,
    bookings.HANDLERS,
    broadcasts.HANDLERS,
    help.HANDLERS,
    stats.HANDLERS,
    places.HANDLERS,
    people.HANDLERS,
    members.HANDLERS,
    jobs.HANDLERS,
)


def staff_handlers() -> dict[type[Any], Handler]:
    """Command type → handler, each command exactly once."""
    handlers: dict[type[Any], Handler] = {}
    for family in _FAMILIES:
        for command, handler in family.items():
            if command in handlers:
                raise RuntimeError(f"{command.__name__} has two handlers")
            handlers[command] = handler
    return handlers


def build_staff_service(
    engine: Engine, settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> StaffService:
    return StaffService(engine, settings, staff_handlers(), clock=clock)
