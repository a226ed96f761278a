"""The aims of `passnum bench` (issue 12's table): each row a figure taken from this run's
results, its aim, and whether it is met. A row whose benchmark did not run (`--only`, no
PostgreSQL URL) says so instead of a figure."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.table import Table

__all__ = ["AIMS", "Aim", "aims_table", "judge_aims"]


@dataclass(frozen=True)
class Aim:
    """One row: `figure` read from results[bench][key], compared to `target` (`<` or `≥`)."""

    label: str
    database: str  # "SQLite", "PostgreSQL" or "" where none or both
    bench: str
    key: str
    target: float | None  # None: reported, no aim
    below: bool  # the aim is figure < target; otherwise figure ≥ target
    unit: str
    detail: tuple[str, ...] = ()  # other figures of the same bench shown beside


def _webhook(database: str, bench: str) -> list[Aim]:
    return [
        Aim(
            "SMS webhook turn / bare signed endpoint",
            database,
            bench,
            "ratio_full_to_bare_median",
            0.3,
            False,
            "",
            ("full_rps_median", "bare_rps_median"),
        ),
        Aim(
            "SMS webhook p99, 32 concurrent",
            database,
            bench,
            "full_p99_ms",
            25.0,
            True,
            "ms",
            ("full_p50_ms", "bare_p99_ms", "full_cpu_ms_per_request"),
        ),
        Aim(
            "server peak RSS under the webhook load",
            database,
            bench,
            "full_peak_rss_mb",
            150.0,
            True,
            "MB",
        ),
    ]


AIMS: list[Aim] = [
    *_webhook("SQLite", "webhook_full_vs_bare"),
    *_webhook("PostgreSQL", "webhook_postgresql"),
    Aim(
        "dispatcher, zero-latency fake provider over HTTP",
        "SQLite",
        "dispatcher_http_other_process",  # the fake Twilio in its own process (bot.bench.outbox)
        "new_per_s_median",
        5_000,
        False,
        "msg/s",
        ("messages",),
    ),
    Aim(
        "dispatcher's own work (provider makes no HTTP call)",
        "SQLite",
        "dispatcher_own_work",
        "new_per_s_median",
        10_000,
        False,
        "msg/s",
        ("messages",),
    ),
    Aim(
        "reminder planning, 100,000 bookings",
        "SQLite",
        "reminder_planning",
        "seconds",
        3.0,
        True,
        "s",
        ("bookings",),
    ),
    Aim(
        "reminder planning, the every-minute pass after it",
        "SQLite",
        "reminder_planning",
        "every_minute_seconds",
        None,
        True,
        "s",
    ),
    Aim(
        "broadcast enqueue, 100,000 recipients",
        "SQLite",
        "broadcast_enqueue",
        "seconds",
        2.0,
        True,
        "s",
        ("recipients",),
    ),
    Aim(
        "nearest slot p99, 10k places / 200k slots",
        "SQLite",
        "nearest_slot_search",
        "p99_ms",
        2.0,
        True,
        "ms",
        ("p50_ms", "client_cpu_p99_ms"),
    ),
    Aim(
        "nearest slot p99, 10k places / 200k slots",
        "PostgreSQL",
        "nearest_slot_postgresql",
        "p99_ms",
        2.0,
        True,
        "ms",
        ("p50_ms", "client_cpu_p99_ms"),
    ),
]


def _format(value: Any, unit: str) -> str:
    if isinstance(value, float) and value.is_integer() and value >= 1:
        value = int(value)
    if isinstance(value, float):
        text = (
            f"{value:,.3f}" if value < 1 else f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"
        )
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text} {unit}".strip()


def judge_aims(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each aim with this run's figure and a verdict: "met", "not met", "reported" (no aim)
    or "not run"."""
    compare: dict[bool, Callable[[float, float], bool]] = {True: operator.lt, False: operator.ge}
    rows = []
    for aim in AIMS:
        figures = results.get(aim.bench, {})
        value = figures.get(aim.key)
        if value is None:
            verdict = "not run"
        elif aim.target is None:
            verdict = "reported"
        else:
            verdict = "met" if compare[aim.below](value, aim.target) else "not met"
        aim_text = (
            ""
            if aim.target is None
            else ("< " if aim.below else "≥ ") + _format(aim.target, aim.unit)
        )
        rows.append(
            {
                "path": aim.label,
                "database": aim.database,
                "figure": value,
                "unit": aim.unit,
                "aim": aim_text,
                "verdict": verdict,
                "detail": {key: figures[key] for key in aim.detail if key in figures},
            }
        )
    return rows


_STYLE = {"met": "green", "not met": "red", "reported": "cyan", "not run": "dim"}


def aims_table(rows: list[dict[str, Any]], *, quick: bool) -> Table:
    title = "passnum bench: the aims" + (" (quick sizes: figures indicative only)" if quick else "")
    table = Table(title=title)
    for column in ("path", "database", "measured", "aim", "met?", "beside it"):
        table.add_column(column)
    for row in rows:
        measured = "" if row["figure"] is None else _format(row["figure"], row["unit"])
        detail = ", ".join(f"{key}={value}" for key, value in row["detail"].items())
        verdict = f"[{_STYLE[row['verdict']]}]{row['verdict']}[/]"
        table.add_row(row["path"], row["database"], measured, row["aim"], verdict, detail)
    return table
