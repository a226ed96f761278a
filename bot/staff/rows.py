"""Rows read by a command that only reads: its transaction is rolled back, which would expire
them; detached first, they keep what was read for the front-end to format."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session

__all__ = ["detached"]

T = TypeVar("T")


def detached(session: Session, rows: list[T]) -> list[T]:
    for row in rows:
        session.expunge(row)
    return rows
