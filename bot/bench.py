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
    import os

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
    }


def bench_nearest(workdir: Path, quick: bool) -> Result:
    """Nearest-slot search at national size: 10,000 places, 200,000 future slots."""
    from bot.bench_data import seed_national
    from storage.db import create_db_engine, unit_of_work
    from storage.migrate import upgrade
    from storage.search import nearest_slots

    places, slots = (2_000, 40_000) if quick else (10_000, 200_000)
    engine = create_db_engine(f"sqlite:///{workdir / 'nearest.db'}")
    upgrade(engine)
    now, points = seed_national(engine, places=places, slots=slots)
    samples = []
    with unit_of_work(engine) as session:
        for i in range(300 if quick else 1000):
            lat, lon = points[i % len(points)]
            topic = None if i % 3 else "email"
            started = time.perf_counter()
            found = nearest_slots(session, latitude=lat, longitude=lon, now=now, topic=topic)
            samples.append((time.perf_counter() - started) * 1000)
            assert found, "the seeded data always has a slot near a seeded point"
    engine.dispose()
    return {
        "places": places,
        "slots": slots,
        "queries": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p99_ms": round(percentile(samples, 99), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "target_p99_ms": 5.0,
    }


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
    """Reading one message: the interpreter and its place lookups (bot/bench_interpret.py)."""
    from bot.bench_interpret import bench_interpreter

    return bench_interpreter(workdir, quick)


BENCHES: dict[str, Callable[[Path, bool], Result]] = {
    "nearest_slot_search": bench_nearest,
    "place_lookup": bench_place_lookup,
    "interpreter": bench_interpret,
}


def _extra_benches() -> dict[str, Callable[[Path, bool], Result]]:
    """Benchmarks contributed by the other parts (webhooks, outbox), when present."""
    try:
        from bot.bench_more import MORE_BENCHES
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
    """Run the benchmarks (those named in `only`, by prefix, when given). The webhook rows
    run on SQLite, and on PostgreSQL too with `database_url` (or PASSNUM_TEST_DATABASE_URL);
    `baseline`, an earlier passnum's source tree, adds its webhook path to the same rounds."""
    from bot.bench_outbox import outbox_benches
    from bot.bench_webhook import webhook_benches

    database_url = database_url or os.environ.get("PASSNUM_TEST_DATABASE_URL") or None
    benches = {
        **BENCHES,
        **_extra_benches(),
        **webhook_benches(database_url, baseline),
        **outbox_benches(database_url, baseline),
    }
    if only:
        benches = {k: v for k, v in benches.items() if any(k.startswith(o) for o in only)}
    results: dict[str, Any] = {"machine": machine_description(), "quick": quick, "results": {}}
    with tempfile.TemporaryDirectory(prefix="passnum-bench-") as folder:
        for name, bench in benches.items():
            console.print(f"[dim]running {name}…[/dim]")
            results["results"][name] = bench(Path(folder), quick)
    json_path.write_text(json.dumps(results, indent=2))
    table = Table(title="passnum bench" + (" (quick)" if quick else ""))
    table.add_column("benchmark")
    table.add_column("figures")
    for name, figures in results["results"].items():
        table.add_row(name, ", ".join(f"{k}={v}" for k, v in figures.items()))
    console.print(table)
    console.print(f"JSON written to {json_path}")
    return results
