"""Webhook load: signed Twilio requests at 32 concurrent clients on loopback, against the full
conversation path and against a bare signed Starlette endpoint, alternated round after round
in one run (the machine is shared: only figures measured side by side compare).

Each round sends the same number of requests to each server in turn; the ratio full/bare is
taken per round and the median reported, with p50/p99 over all rounds, the server's CPU time
per request and its peak memory (VmHWM). On PostgreSQL it also measures the full path with
`--workers` 1, 2 and 4. `baseline` (a source tree of an earlier passnum) adds that tree's
full path to the same rounds, for a before/after in one run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twilio.request_validator import RequestValidator

__all__ = ["bench_webhook", "bench_webhook_postgresql", "fresh_schema", "webhook_benches"]

AUTH_TOKEN = "bench-auth-token"
PUBLIC_URL = "https://passnum.bench.invalid"
CONCURRENCY = 32
BODIES = ["1", "MENU", "3", "0"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One server process under load, and what it measured over the rounds."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    requests: int = 0


def _start(
    name: str, mode: str, database_url: str, *, workers: int = 1, source: Path | None = None
) -> Server:
    port = _free_port()
    env = {
        **os.environ,
        "PASSNUM_DATABASE_URL": database_url,
        "PASSNUM_PUBLIC_URL": PUBLIC_URL,
        "PASSNUM_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PASSNUM_TELEGRAM_TOKEN": "",
    }
    if source is not None:  # an earlier passnum's tree: its modules first
        env["PYTHONPATH"] = str(source)
    arguments = [mode, str(port)] + ([str(workers)] if workers > 1 else [])
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.bench.server", *arguments],
        env=env,
        cwd=source,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                time.sleep(0.5 if workers > 1 else 0)  # every worker listening
                return Server(name, process, f"http://127.0.0.1:{port}")
        except OSError:
            if process.poll() is not None:
                detail = process.stderr.read().decode() if process.stderr else mode
                raise RuntimeError(detail) from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the {name} server did not start")


def _family(pid: int) -> list[int]:
    """The process and its children (uvicorn's workers)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in _family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _peak_memory_mb(pid: int) -> float:
    """VmHWM of the process, or of its largest worker."""
    peaks = [0.0]
    for member in _family(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        peaks += [int(line.split()[1]) / 1024 for line in lines if line.startswith("VmHWM:")]
    return round(max(peaks), 1)


def _requests(phones: list[str], count: int, tag: str) -> list[tuple[dict[str, str], str]]:
    validator = RequestValidator(AUTH_TOKEN)
    signed = []
    for n in range(count):
        params = {
            "From": phones[n % len(phones)],
            "To": "+33700000000",
            "Body": BODIES[(n // len(phones)) % len(BODIES)],
            "MessageSid": f"SM{tag}{n:08d}",
            "AccountSid": "AC" + "0" * 32,
        }
        signed.append((params, validator.compute_signature(PUBLIC_URL + "/sms/twilio", params)))
    return signed


async def _load(url: str, signed: list[tuple[dict[str, str], str]]) -> tuple[float, list[float]]:
    import aiohttp

    queue: asyncio.Queue[tuple[dict[str, str], str]] = asyncio.Queue()
    for item in signed:
        queue.put_nowait(item)
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:

        async def worker() -> None:
            while not queue.empty():
                params, signature = queue.get_nowait()
                started = time.perf_counter()
                headers = {"X-Twilio-Signature": signature}
                async with client.post("/sms/twilio", data=params, headers=headers) as answer:
                    text = await answer.text()
                latencies.append((time.perf_counter() - started) * 1000)
                if answer.status != 200 or "<Message>" not in text:
                    raise RuntimeError(f"unexpected answer {answer.status}: {text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return len(signed) / elapsed, latencies


def _round(server: Server, phones: list[str], count: int, tag: str) -> None:
    cpu = _cpu_seconds(server.process.pid)
    rate, latencies = asyncio.run(_load(server.url, _requests(phones, count, tag)))
    server.cpu_seconds += _cpu_seconds(server.process.pid) - cpu
    server.requests += count
    server.rates.append(rate)
    server.latencies += latencies


def _stop(server: Server) -> float:
    memory = _peak_memory_mb(server.process.pid)
    server.process.terminate()
    server.process.wait(timeout=30)
    return memory


def _figures(server: Server, memory: float) -> dict[str, Any]:
    from bot.bench.suite import percentile

    return {
        "rps_median": round(statistics.median(server.rates), 1),
        "p50_ms": round(percentile(server.latencies, 50), 2),
        "p99_ms": round(percentile(server.latencies, 99), 2),
        "cpu_ms_per_request": round(server.cpu_seconds / server.requests * 1000, 3),
        "peak_rss_mb": memory,
    }


def _alternate(
    servers: list[Server], phones: list[str], *, rounds: int, count: int
) -> dict[str, dict[str, Any]]:
    """Warm every server, then `rounds` rounds, each server in turn; figures per server."""
    tags = uuid.uuid4().hex[:6]
    for server in servers:
        _round(server, phones, 64, f"W{tags}{server.name}")
        server.rates, server.latencies, server.cpu_seconds, server.requests = [], [], 0.0, 0
    for r in range(rounds):
        for server in servers:
            _round(server, phones, count, f"{tags}{server.name}{r:02d}")
    return {server.name: _figures(server, _stop(server)) for server in servers}


def _seed(database_url: str, people: int) -> list[str]:
    from sqlalchemy import select

    from storage.db import create_db_engine, unit_of_work
    from storage.demo import load_demo
    from storage.migrate import upgrade
    from storage.models import Beneficiary

    engine = create_db_engine(database_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        load_demo(session, now=datetime.now(UTC))
        session.commit()
        phones = session.scalars(select(Beneficiary.phone).limit(people)).all()  # type: ignore[call-overload]
    engine.dispose()
    return [phone for phone in phones if phone]


def _compare(
    database_url: str, quick: bool, baseline: Path | None, database: str
) -> dict[str, Any]:
    phones = _seed(database_url, 20)
    rounds, count = (3, 400) if quick else (5, 1500)
    servers = [_start("bare", "bare", database_url), _start("full", "full", database_url)]
    if baseline is not None:
        servers.append(_start("baseline", "full", database_url, source=baseline))
    try:
        figures = _alternate(servers, phones, rounds=rounds, count=count)
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.kill()
    bare, full = figures["bare"], figures["full"]
    ratios = [f / b for f, b in zip(servers[1].rates, servers[0].rates, strict=True)]
    result = {
        "database": database,
        "rounds": rounds,
        "requests_per_round": count,
        "concurrency": CONCURRENCY,
        "ratio_full_to_bare_median": round(statistics.median(ratios), 3),
        "ratio_per_round": [round(ratio, 3) for ratio in ratios],
        "target_ratio": 0.3,
        "target_p99_ms": 25.0,
        "target_rss_mb": 150.0,
        **{f"full_{key}": value for key, value in full.items()},
        **{f"bare_{key}": value for key, value in bare.items()},
    }
    if baseline is not None:
        before = servers[2].rates
        result["baseline_ratio_median"] = round(
            statistics.median(b / a for b, a in zip(before, servers[0].rates, strict=True)), 3
        )
        result |= {f"baseline_{key}": value for key, value in figures["baseline"].items()}
    return result


def bench_webhook(workdir: Path, quick: bool, baseline: Path | None = None) -> dict[str, Any]:
    """SQLite, one process: full path vs bare endpoint (and the baseline tree if given)."""
    return _compare(f"sqlite:///{workdir / 'webhook.db'}", quick, baseline, "sqlite")


@contextmanager
def fresh_schema(database_url: str) -> Iterator[str]:
    """A throw-away schema on the PostgreSQL server: the bench never touches other tables."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.db import create_db_engine

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def bench_webhook_postgresql(
    database_url: str, quick: bool, baseline: Path | None = None
) -> dict[str, Any]:
    """PostgreSQL: full vs bare as on SQLite, then the full path's throughput with
    `--workers` 1, 2 and 4, alternated in the same rounds."""
    with fresh_schema(database_url) as url:
        result = _compare(url, quick, baseline, "postgresql")
        phones = _seed(url, 20)
        rounds, count = (2, 400) if quick else (3, 1500)
        servers = [_start(f"workers{n}", "full", url, workers=n) for n in (1, 2, 4)]
        try:
            figures = _alternate(servers, phones, rounds=rounds, count=count)
        finally:
            for server in servers:
                if server.process.poll() is None:
                    server.process.kill()
    for name, values in figures.items():
        result |= {f"{name}_{key}": value for key, value in values.items()}
    return result


def webhook_benches(database_url: str | None, baseline: Path | None) -> dict[str, Any]:
    """The webhook rows of `passnum bench`: SQLite always, PostgreSQL when a URL is given."""
    from functools import partial

    benches: dict[str, Any] = {"webhook_full_vs_bare": partial(bench_webhook, baseline=baseline)}
    if database_url:
        benches["webhook_postgresql"] = lambda _workdir, quick: bench_webhook_postgresql(
            database_url, quick, baseline
        )
    return benches
