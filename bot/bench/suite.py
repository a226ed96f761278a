"""`passnum bench`: the benchmark suite. Each entry measures one target on a throw-away
database in a temporary folder, and the results go to a Rich table and a JSON file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["run_bench", "percentile", "machine_description", "BENCHES"]

Result = dict[str, Any]


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def machine_description() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
    }


def _nearest_figures(database_url: str, quick: bool) -> Result:
    """Seed 10,000 places and 200,000 future slots, then time nearest_slots from points near
    the places (1 query in 3 with a topic)."""
    from bot.bench.data import seed_national
    from storage.db import create_db_engine, unit_of_work
    from storage.migrate import upgrade
    from storage.search import nearest_slots

    places, slots = (2_000, 40_000) if quick else (10_000, 200_000)
    engine = create_db_engine(database_url)
    upgrade(engine)
    now, points = seed_national(engine, places=places, slots=slots)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # what autovacuum would have done by then
            connection.exec_driver_sql("ANALYZE place, slot")
    samples, cpu = [], []
    with unit_of_work(engine) as session:
        for i in range(300 if quick else 1000):
            lat, lon = points[i % len(points)]
            topic = None if i % 3 else "email"
            started, started_cpu = time.perf_counter(), time.thread_time()
            found = nearest_slots(session, latitude=lat, longitude=lon, now=now, topic=topic)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            assert found, "the seeded data always has a slot near a seeded point"
    engine.dispose()
    return {
        "database": engine.dialect.name,
        "places": places,
        "slots": slots,
        "queries": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p99_ms": round(percentile(samples, 99), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        # this process's CPU time a query: what the machine's load does not stretch (on
        # PostgreSQL the server's share is not in it)
        "client_cpu_p50_ms": round(percentile(cpu, 50), 3),
        "client_cpu_p99_ms": round(percentile(cpu, 99), 3),
        "target_p99_ms": 2.0,
    }


def bench_nearest(workdir: Path, quick: bool) -> Result:
    """Nearest-slot search at national size on SQLite: 10,000 places, 200,000 future slots."""
    return _nearest_figures(f"sqlite:///{workdir / 'nearest.db'}", quick)


def nearest_postgresql(database_url: str) -> Callable[[Path, bool], Result]:
    """The same on PostgreSQL, in a throw-away schema."""
    from bot.bench.webhook import fresh_schema

    def bench(_workdir: Path, quick: bool) -> Result:
        with fresh_schema(database_url) as url:
            return _nearest_figures(url, quick)

    return bench


def bench_place_lookup(workdir: Path, quick: bool) -> Result:
    """Resolving what a person typed (commune, typo, postcode, neighbourhood, gibberish)."""
    from storage.geo import default_resolver

    resolver = default_resolver()
    texts = ["echiroles", "st martin d'heres", "azertyuiop", "38320", "villeneuve", "grenoble"]
    rounds = 200 if quick else 2000
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            resolver.resolve(text)
    per_call_us = (time.perf_counter() - started) / (rounds * len(texts)) * 1e6
    return {"lookups": rounds * len(texts), "mean_us": round(per_call_us, 1)}


def bench_interpret(workdir: Path, quick: bool) -> Result:
    """Reading one message: the interpreter and its place lookups (bot/bench/interpret.py)."""
    from bot.bench.interpret import bench_interpreter

    return bench_interpreter(workdir, quick)


BENCHES: dict[str, Callable[[Path, bool], Result]] = {
    "nearest_slot_search": bench_nearest,
    "place_lookup": bench_place_lookup,
    "interpreter": bench_interpret,
}


def _extra_benches() -> dict[str, Callable[[Path, bool], Result]]:
    """Benchmarks contributed by the other parts (webhooks, outbox), when present."""
    try:
        from bot.bench.more import MORE_BENCHES
    except ImportError:
        return {}
    return MORE_BENCHES


def run_bench(
    *,
    quick: bool,
    json_path: Path,
    console: Console,
    only: list[str] | None = None,
    database_url: str | None = None,
    baseline: Path | None = None,
) -> dict[str, Any]:
    """Run the benchmarks (those named in `only`, by prefix, when given), then print every
    figure and the aims table (bot.bench.report). The webhook and nearest-slot rows run on
    SQLite, and on PostgreSQL too with `database_url` (or PASSNUM_TEST_DATABASE_URL);
    `baseline`, an earlier passnum's source tree, adds its webhook path to the same rounds."""
    from bot.bench.outbox import outbox_benches
    from bot.bench.report import aims_table, judge_aims
    from bot.bench.webhook import webhook_benches

    database_url = database_url or os.environ.get("PASSNUM_TEST_DATABASE_URL") or None
    benches = {
        **BENCHES,
        **_extra_benches(),
        **webhook_benches(database_url, baseline),
        **outbox_benches(database_url, baseline),
    }
    if database_url:
        benches["nearest_slot_postgresql"] = nearest_postgresql(database_url)
    if only:
        benches = {k: v for k, v in benches.items() if any(k.startswith(o) for o in only)}
    results: dict[str, Any] = {"machine": machine_description(), "quick": quick, "results": {}}
    results["machine"]["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="passnum-bench-") as folder:
        for name, bench in benches.items():
            console.print(f"[dim]running {name}…[/dim]")
            results["results"][name] = bench(Path(folder), quick)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["aims"] = judge_aims(results["results"])
    json_path.write_text(json.dumps(results, indent=2))
    table = Table(title="passnum bench: every figure" + (" (quick)" if quick else ""))
    table.add_column("benchmark")
    table.add_column("figures")
    for name, figures in results["results"].items():
        table.add_row(name, ", ".join(f"{k}={v}" for k, v in figures.items()))
    if not console.is_terminal:  # a file or a pipe: wide enough to read, not 80 columns
        console.width = max(console.width, 150)
    console.print(table)
    console.print(aims_table(results["aims"], quick=quick))
    machine = results["machine"]
    console.print(
        f"{machine['cpus']} CPUs; load average (1, 5, 15 min) {machine['load_average_at_start']}"
        f" at the start, {machine['load_average_at_end']} at the end: latencies (p99) stretch"
        " with the load, the CPU time per request much less."
    )
    console.print(f"JSON written to {json_path}")
    return results
