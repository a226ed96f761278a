"""`passnum bench`'s aims: every row of issue 12's table judged from the run's figures."""

from __future__ import annotations

import json

from rich.console import Console

from bot.bench.report import AIMS, judge_aims
from bot.bench.suite import run_bench


def test_each_aim_is_met_not_met_reported_or_not_run() -> None:
    results = {
        "webhook_full_vs_bare": {
            "ratio_full_to_bare_median": 0.31,
            "full_p99_ms": 25.0,
            "full_peak_rss_mb": 116.0,
        },
        "dispatcher_http_other_process": {"messages": 10_000, "new_per_s_median": 4_999.0},
        "dispatcher_own_work": {"messages": 20_000, "new_per_s_median": 10_000.0},
        "reminder_planning": {"seconds": 2.9, "every_minute_seconds": 0.4},
        "nearest_slot_postgresql": {"p99_ms": 1.2, "p50_ms": 0.4},
    }
    verdicts = {(row["path"], row["database"]): row["verdict"] for row in judge_aims(results)}
    assert len(verdicts) == len(AIMS)
    assert verdicts["SMS webhook turn / bare signed endpoint", "SQLite"] == "met"
    assert verdicts["SMS webhook p99, 32 concurrent", "SQLite"] == "not met"  # < 25, not ≤
    assert verdicts["server peak RSS under the webhook load", "SQLite"] == "met"
    assert verdicts["SMS webhook turn / bare signed endpoint", "PostgreSQL"] == "not run"
    assert verdicts["dispatcher, zero-latency fake provider over HTTP", "SQLite"] == "not met"
    assert verdicts["dispatcher's own work (provider makes no HTTP call)", "SQLite"] == "met"
    assert verdicts["reminder planning, 100,000 bookings", "SQLite"] == "met"
    assert verdicts["reminder planning, the every-minute pass after it", "SQLite"] == "reported"
    assert verdicts["nearest slot p99, 10k places / 200k slots", "PostgreSQL"] == "met"
    assert verdicts["nearest slot p99, 10k places / 200k slots", "SQLite"] == "not run"


def test_a_run_prints_and_writes_the_aims(tmp_path) -> None:  # type: ignore[no-untyped-def]
    console = Console(record=True, width=200)
    path = tmp_path / "bench.json"
    run_bench(quick=True, json_path=path, console=console, only=["nearest_slot_search"])
    written = json.loads(path.read_text())
    nearest = written["results"]["nearest_slot_search"]
    assert 0 < nearest["p50_ms"] <= nearest["p99_ms"]
    row = next(r for r in written["aims"] if r["database"] == "SQLite" and "nearest" in r["path"])
    assert row["figure"] == nearest["p99_ms"]
    assert row["verdict"] in {"met", "not met"}
    assert {r["verdict"] for r in written["aims"] if r is not row} == {"not run"}
    text = console.export_text()
    assert "the aims" in text and "nearest slot p99" in text and "< 2 ms" in text
