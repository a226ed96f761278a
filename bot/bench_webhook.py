"""Webhook load: signed Twilio requests at 32 concurrent clients on loopback, against the full
conversation path and against the bare endpoint, in the same run."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twilio.request_validator import RequestValidator

__all__ = ["bench_webhook"]

AUTH_TOKEN = "bench-auth-token"
PUBLIC_URL = "https://passnum.bench.invalid"
CONCURRENCY = 32


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(mode: str, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "PASSNUM_DATABASE_URL": database_url,
        "PASSNUM_PUBLIC_URL": PUBLIC_URL,
        "PASSNUM_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PASSNUM_TELEGRAM_TOKEN": "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.bench_server", mode, str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, url
        except OSError:
            if process.poll() is not None:
                detail = process.stderr.read().decode() if process.stderr else mode
                raise RuntimeError(detail) from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the {mode} server did not start")


def _peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _requests(phones: list[str], count: int, tag: str) -> list[tuple[dict[str, str], str]]:
    validator = RequestValidator(AUTH_TOKEN)
    bodies = ["1", "MENU", "3", "0"]
    signed = []
    for n in range(count):
        params = {
            "From": phones[n % len(phones)],
            "To": "+33700000000",
            "Body": bodies[(n // len(phones)) % len(bodies)],
            "MessageSid": f"SM{tag}{n:030d}",
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
    timeout = aiohttp.ClientTimeout(total=60)
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


def _run_load(mode: str, database_url: str, phones: list[str], count: int) -> dict[str, Any]:
    from bot.bench import percentile

    process, url = _start(mode, database_url)
    try:
        asyncio.run(_load(url, _requests(phones, 64, f"W{mode[0]}")))  # warm-up
        rate, latencies = asyncio.run(_load(url, _requests(phones, count, mode[0].upper())))
        memory = _peak_memory_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return {
        "rps": round(rate, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "peak_rss_mb": memory,
    }


def _seed(database_url: str, people: int) -> list[str]:
    from storage.db import create_db_engine, unit_of_work
    from storage.demo import load_demo
    from storage.migrate import upgrade

    engine = create_db_engine(database_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        load_demo(session, now=datetime.now(UTC))
        session.commit()
    from storage.models import Beneficiary

    with unit_of_work(engine) as session:
        phones = [b.phone for b in session.query(Beneficiary).limit(people) if b.phone]
    engine.dispose()
    return phones


def bench_webhook(workdir: Path, quick: bool) -> dict[str, Any]:
    database_url = f"sqlite:///{workdir / 'webhook.db'}"
    phones = _seed(database_url, 20)
    count = 800 if quick else 4000
    full = _run_load("full", database_url, phones, count)
    bare = _run_load("bare", database_url, phones, count)
    return {
        "requests": count,
        "concurrency": CONCURRENCY,
        "database": "sqlite",
        "full_rps": full["rps"],
        "full_p50_ms": full["p50_ms"],
        "full_p99_ms": full["p99_ms"],
        "bare_rps": bare["rps"],
        "bare_p50_ms": bare["p50_ms"],
        "bare_p99_ms": bare["p99_ms"],
        "ratio_full_to_bare": round(full["rps"] / bare["rps"], 3),
        "target_ratio": 0.5,
        "server_peak_rss_mb": full["peak_rss_mb"],
    }
