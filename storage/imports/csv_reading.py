"""Reading an import file: delimiter, BOM, header check, line numbers; what an import reports."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CsvRow",
    "ImportReport",
    "Outcome",
    "Progress",
    "RowError",
    "RowProblem",
    "Source",
    "header_error",
    "read_csv",
]

Source = str | os.PathLike[str] | Iterable[str]
Progress = Callable[[int, int], None]
Outcome = str  # "created", "updated" or "unchanged"


@dataclass(frozen=True)
class RowError:
    """`{"line": 7, "reason": "latitude: not a number ('45,1x')"}`; line 1 is the header."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did. `{"created": 9, "updated": 0, "unchanged": 0, "errors": [...]}`"""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal: "9 created, 0 updated, 0 unchanged, 3 errors"."""
        plural = "" if len(self.errors) == 1 else "s"
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.errors)} error{plural}"
        )

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


class RowProblem(ValueError):
    """A row that cannot be loaded; the message is the reason shown to staff."""


@dataclass(frozen=True)
class CsvRow:
    """One data row: its first line in the file, and its cells by lower-case column name."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")

    def required(self, column: str) -> str:
        value = self.get(column)
        if not value:
            raise RowProblem(f"{column}: missing")
        return value


def read_csv(source: Source, required: Sequence[str]) -> list[CsvRow]:
    """All data rows of a UTF-8 CSV (BOM or not, comma or semicolon); RowProblem on a bad header."""
    lines = _lines(source)
    if not lines:
        raise RowProblem("empty file")
    lines[0] = lines[0].removeprefix("\ufeff")
    # Counting in the header is more reliable than csv.Sniffer on short files.
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    missing = [name for name in required if name not in header]
    if missing:
        raise RowProblem(f"line 1: missing column(s) {', '.join(missing)}")
    return list(_data_rows(reader, header))


def header_error(problem: RowProblem) -> ImportReport:
    """The report of a file refused as a whole: one error on line 1."""
    return ImportReport(errors=[RowError(1, str(problem))])


def _lines(source: Source) -> list[str]:
    if isinstance(source, str | os.PathLike):
        # newline="" keeps line breaks inside quoted cells for the csv module.
        with Path(source).open(encoding="utf-8-sig", newline="") as handle:
            return handle.read().splitlines(keepends=True)
    return [line if line.endswith("\n") else line + "\n" for line in source]


def _data_rows(reader: Any, header: list[str]) -> Iterator[CsvRow]:
    line = reader.line_num + 1
    for values in reader:
        if any(value.strip() for value in values):
            cells = {
                name: value.strip() for name, value in zip(header, values, strict=False) if name
            }
            yield CsvRow(line, cells)
        line = reader.line_num + 1  # a quoted cell may span several lines
