"""Running an import: rows one by one, batched flushes and queries, progress, upserts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from storage.imports.csv_reading import (
    CsvRow,
    ImportReport,
    Outcome,
    Progress,
    RowError,
    RowProblem,
)

__all__ = ["BATCH_SIZE", "PROGRESS_EVERY", "apply_changes", "fetch_in", "mark_seen", "run_rows"]

BATCH_SIZE = 500  # rows between flushes, and keys per IN (...) query
PROGRESS_EVERY = 100
T = TypeVar("T")


def run_rows(
    session: Session,
    rows: Sequence[CsvRow],
    handle: Callable[[CsvRow], Outcome],
    on_progress: Progress | None,
    after_batch: Callable[[], None] | None = None,
) -> ImportReport:
    """Apply `handle` to each row, collecting outcomes and errors; flush every BATCH_SIZE rows.

    `handle` must check everything before it changes anything, so a refused row leaves no trace.
    """
    report = ImportReport()
    for done, row in enumerate(rows, start=1):
        try:
            report.count(handle(row))
        except RowProblem as problem:
            report.errors.append(RowError(row.line, str(problem)))
        if done % BATCH_SIZE == 0:
            (after_batch or session.flush)()
        if on_progress and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            on_progress(done, len(rows))
    (after_batch or session.flush)()
    return report


def fetch_in(session: Session, model: type[T], column: Any, keys: Iterable[Any]) -> list[T]:
    """Rows whose `column` is in `keys`, queried BATCH_SIZE keys at a time."""
    unique = sorted({key for key in keys if key is not None})
    found: list[T] = []
    for start in range(0, len(unique), BATCH_SIZE):
        chunk = unique[start : start + BATCH_SIZE]
        found.extend(session.exec(select(model).where(col(column).in_(chunk))).all())  # type: ignore[attr-defined]
    return found


def apply_changes(record: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when something changed."""
    changed = False
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


def mark_seen(seen: dict[str, int], key: str, row: CsvRow) -> None:
    """A key twice in one file is a mistake in the file, not an update."""
    if key in seen:
        raise RowProblem(f"{key!r} already on line {seen[key]}")
    seen[key] = row.line
