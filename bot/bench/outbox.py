"""Benchmarks of the outbox, called by `passnum bench`: the dispatcher's throughput (through
HTTP to a fake Twilio in its own process, and its own work with a provider that makes no call),
the bulk enqueue of a broadcast, and reminder planning time for many bookings.

The dispatcher and enqueue rows run each measurement in a fresh process, from this tree or from
an earlier passnum's source tree (`--baseline`), alternated in the same rounds:

    python -P bot/bench/outbox.py CASE COUNT [FAKE_TWILIO_URL]    # with PYTHONPATH=<tree>

prints one JSON line. Only the modules and signatures both trees have are used here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.fakes.provider import FakeGateway, LoopbackProvider
from bot.outbox.dispatcher import DispatchConfig, Dispatcher
from bot.outbox.pacing import PacingConfig
from bot.outbox.scheduler import plan
from config import Settings
from storage import outbox
from storage.db import unit_of_work
from storage.models import Beneficiary, Booking, Booklet, Place, Slot, Topic, Voucher

__all__ = ["bench_dispatch", "bench_plan_reminders", "outbox_benches"]

MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
SEATS = 10


def _settings() -> Settings:
    return Settings(_env_file=None, sms_daily_cap=10**9)  # type: ignore[call-arg]


def bench_dispatch(engine: Engine, n: int) -> float:
    """Messages per second from queued to sent, unpaced, through real loopback HTTP."""
    queue_sms(engine, n, key=f"bench-dispatch:{time.time_ns()}")
    gateway = FakeGateway().start()
    provider = LoopbackProvider("sms", gateway.url)
    config = DispatchConfig(batch_size=200, concurrency=8, pacing=PacingConfig(None, None, None))
    dispatcher = Dispatcher(engine, {"sms": provider}, _settings(), config=config)
    started = time.perf_counter()
    try:
        asyncio.run(_dispatch_and_close(dispatcher, provider))
    finally:
        gateway.stop()
    return len(gateway.received) / (time.perf_counter() - started)


async def _dispatch_and_close(dispatcher: Dispatcher, provider: LoopbackProvider) -> None:
    await dispatcher.dispatch_due(MONDAY_10)
    await provider.aclose()


def bench_plan_reminders(engine: Engine, n_bookings: int) -> float:
    """Seconds for one planning pass over `n_bookings` upcoming bookings (J-1 + H-2 each)."""
    _seed_bookings(engine, n_bookings)
    started = time.perf_counter()
    plan(engine, _settings(), now=MONDAY_10)
    return time.perf_counter() - started


def _seed_bookings(engine: Engine, n: int) -> None:
    """n people, each booked on one of n/SEATS slots over the next days (bulk inserts)."""
    now, tag = datetime.now(UTC), str(time.time_ns())
    with engine.begin() as conn:
        topic_key = Topic.__table__.c.key  # type: ignore[attr-defined]  # the Core column
        if conn.scalar(select(topic_key).where(topic_key == "email")) is None:
            conn.execute(
                insert(Topic), [{"key": "email", "label_fr": "E-mail", "label_en": "E-mail"}]
            )
        place_id = conn.execute(
            insert(Place).returning(Place.__table__.c.id),  # type: ignore[attr-defined]
            [
                {
                    "external_id": f"bench-{tag}",
                    "name": "Maison des habitants",
                    "address": "1 rue",
                    "postcode": "38000",
                    "commune": "Grenoble",
                    "latitude": 45.18,
                    "longitude": 5.72,
                }
            ],
        ).scalar_one()
        slot_ids = _ids(
            conn,
            Slot,
            [
                {
                    "external_id": f"bench-{tag}-{s}",
                    "place_id": place_id,
                    "topic": "email",
                    "starts_at": MONDAY_10 + timedelta(days=1 + s % 5, hours=s % 8),
                    "ends_at": MONDAY_10 + timedelta(days=1 + s % 5, hours=s % 8 + 2),
                    "capacity": SEATS,
                    "booked": SEATS,
                }
                for s in range(max(n // SEATS, 1))
            ],
        )
        people = _ids(
            conn,
            Beneficiary,
            [
                {
                    "first_name": f"P{i}",
                    "phone": f"+337{tag[-4:]}{i:06d}"[:16],
                    "created_at": now,
                    "last_channel": "sms",
                }
                for i in range(n)
            ],
        )
        booklets = _ids(
            conn,
            Booklet,
            [
                {
                    "number": f"B{tag}-{i}",
                    "verification_code": "1",
                    "beneficiary_id": p,
                    "issued_at": now,
                }
                for i, p in enumerate(people)
            ],
        )
        vouchers = _ids(
            conn,
            Voucher,
            [
                {
                    "code": f"V{tag}-{i}",
                    "booklet_id": b,
                    "expires_on": date(2027, 6, 30),
                    "status": "reserved",
                    "updated_at": now,
                }
                for i, b in enumerate(booklets)
            ],
        )
        conn.execute(
            insert(Booking),
            [
                {
                    "slot_id": slot_ids[i // SEATS % len(slot_ids)],
                    "beneficiary_id": p,
                    "voucher_id": v,
                    "status": "booked",
                    "created_at": now - timedelta(days=7),
                    "updated_at": now,
                }
                for i, (p, v) in enumerate(zip(people, vouchers, strict=True))
            ],
        )


def _ids(conn, model, rows: list[dict]) -> list[int]:  # type: ignore[no-untyped-def, type-arg]
    """Insert rows and return their ids in order (one statement per 1,000 rows)."""
    result = conn.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


# --- the dispatcher and enqueue rows: old and new trees side by side, one process each ---

TWILIO_SID = "AC" + "0" * 32


class NoCallProvider:
    """A provider that answers "sent" without any I/O: what is left is the dispatcher's work."""

    channel = "sms"

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, address: str, text: str, *, keyboard: object = None) -> object:
        from bot.outbox.providers import Outcome, SendResult

        self.calls += 1
        return SendResult(Outcome.SENT, provider_id=f"SM{self.calls:032x}")


def _case_settings(fake_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        sms_daily_cap=10**9,
        twilio_api_base=fake_url or "http://127.0.0.1:9",
        twilio_account_sid=TWILIO_SID,
        twilio_auth_token="t" * 32,
        twilio_from="+33700000000",
    )


def queue_sms(engine: Engine, count: int, *, key: str, body: str = "Bench {i}") -> None:
    """`count` SMS rows due at MONDAY_10, to distinct numbers, with dedupe keys `key:i`."""
    rows = [
        {
            "channel": "sms",
            "address": f"+336{i:08d}",
            "body": body.format(i=i),
            "dedupe_key": f"{key}:{i}",
        }
        for i in range(count)
    ]
    with unit_of_work(engine) as session:
        outbox.enqueue_many(session, rows, now=MONDAY_10)
        session.commit()


def _fill(engine: Engine, count: int) -> None:
    queue_sms(engine, count, key="bench", body="Atelier numérique mardi 10 h, message {i}")


def run_case(case: str, count: int, fake_url: str, folder: str) -> dict[str, object]:
    """One measurement in this process (see the module's docstring)."""
    from storage.db import create_db_engine
    from storage.migrate import upgrade

    url = folder if folder.startswith("postgresql") else f"sqlite:///{folder}/bench.db"
    engine = create_db_engine(url)
    upgrade(engine)
    if case == "enqueue":
        rows = [
            {
                "channel": "sms",
                "address": f"+336{i:08d}",
                "body": "Rappel : ateliers gratuits cette semaine.",
                "segments": 1,
                "dedupe_key": f"broadcast:1:{i}",
                "send_after": None,
            }
            for i in range(count)
        ]
        started = time.perf_counter()
        with unit_of_work(engine) as session:
            outbox.enqueue_many(session, rows, now=MONDAY_10)
            session.commit()
        seconds = time.perf_counter() - started
        with unit_of_work(engine) as session:
            queued = outbox.count_by_status(session).get("queued", 0)
        engine.dispose()
        return {"seconds": round(seconds, 3), "queued": queued}
    if case == "broadcast":
        from bot.bench.more import bench_broadcast_enqueue

        return bench_broadcast_enqueue(Path(folder), count < 100_000)
    _fill(engine, count)
    provider: object
    if case == "http":
        from bot.outbox.twilio_sms import TwilioSmsProvider

        provider = TwilioSmsProvider(_case_settings(fake_url))
    else:
        provider = NoCallProvider()
    config = DispatchConfig(pacing=PacingConfig(None, None, None))  # the tree's own sizes
    dispatcher = Dispatcher(engine, {"sms": provider}, _case_settings(fake_url), config=config)  # type: ignore[dict-item]
    report, seconds = _run_loop(_timed_pass(dispatcher, provider))
    engine.dispose()
    return {
        "sent": report.sent,
        "seconds": round(seconds, 3),
        "per_s": round(report.sent / seconds),
    }


async def _timed_pass(dispatcher: Dispatcher, provider: object) -> tuple[Any, float]:
    from bot.outbox import quiet_hours

    quiet_hours.is_quiet(MONDAY_10, dispatcher.settings)  # a running server has its calendar
    started = time.perf_counter()
    report = await dispatcher.dispatch_due(MONDAY_10)
    seconds = time.perf_counter() - started
    closer = getattr(provider, "aclose", None)
    if closer is not None:
        await closer()
    return report, seconds


def _run_loop(coroutine: Any) -> Any:
    """uvloop when present: the server's scheduler runs the dispatcher in uvicorn's loop."""
    try:
        import uvloop

        return uvloop.run(coroutine)
    except ImportError:
        return asyncio.run(coroutine)


def _in_process(
    tree: Path, case: str, count: int, fake_url: str = "", database_url: str | None = None
) -> dict[str, object]:
    """`run_case` in a fresh process with `tree`'s modules first on the path, on a new SQLite
    file or, with `database_url`, in a throw-away PostgreSQL schema."""
    with (
        tempfile.TemporaryDirectory(prefix="passnum-bench-outbox-") as folder,
        _schema(database_url) as schema_url,
    ):
        env = {**os.environ, "PYTHONPATH": str(tree)}
        script = str(Path(__file__).resolve())
        answer = subprocess.run(
            [sys.executable, "-P", script, case, str(count), fake_url, schema_url or folder],
            env=env,
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    if answer.returncode != 0:
        raise RuntimeError(f"{case} in {tree} failed: {answer.stderr[-2000:]}")
    return dict(json.loads(answer.stdout.strip().splitlines()[-1]))


@contextlib.contextmanager
def _schema(database_url: str | None) -> Iterator[str | None]:
    """A URL whose connections use a fresh PostgreSQL schema, dropped afterwards."""
    if not database_url:
        yield None
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.db import create_db_engine

    schema = f"bench_outbox_{uuid.uuid4().hex[:10]}"
    admin = create_db_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class FastTwilio:
    """`python -m bot.fakes.servers` in its own process: the fast fake Messages endpoint."""

    def __enter__(self) -> FastTwilio:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.fakes.servers"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"
        return self

    def reset(self) -> None:
        httpx.post(self.url + "/reset", timeout=10)

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(self.url + "/stats", timeout=10).json())

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()


def _rounds(
    case: str,
    count: int,
    rounds: int,
    baseline: Path | None,
    fake: FastTwilio | None = None,
    database_url: str | None = None,
) -> dict[str, list[dict[str, object]]]:
    """`rounds` alternated measurements of this tree (and the baseline's)."""
    trees = {"new": Path(__file__).resolve().parents[1]}
    if baseline is not None:
        trees["old"] = baseline
    samples: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
    for round_number in range(rounds):
        order = list(trees.items())
        if round_number % 2:
            order.reverse()
        for name, tree in order:
            if fake is not None:
                fake.reset()
            sample = _in_process(tree, case, count, fake.url if fake else "", database_url)
            if fake is not None:
                received = fake.stats()
                assert received == {"messages": count, "distinct": count}, received
            samples[name].append(sample)
    return samples


def _summary(samples: dict[str, list[dict[str, object]]], key: str) -> dict[str, object]:
    figures: dict[str, object] = {}
    for name, runs in samples.items():
        values = [float(run[key]) for run in runs]  # type: ignore[arg-type]
        figures[f"{name}_{key}_median"] = round(statistics.median(values), 3)
        figures[f"{name}_{key}_rounds"] = [round(v, 3) for v in values]
    return figures


def bench_dispatch_http(
    workdir: Path, quick: bool, baseline: Path | None = None
) -> dict[str, object]:
    """Queued → sent through HTTP to a zero-latency fake Twilio in another process."""
    count, rounds = (2_000, 3) if quick else (10_000, 5)
    with FastTwilio() as fake:
        samples = _rounds("http", count, rounds, baseline, fake)
    return {"messages": count, "rounds": rounds, **_summary(samples, "per_s"), "aim_per_s": 5000}


def bench_dispatch_own(
    workdir: Path, quick: bool, baseline: Path | None = None
) -> dict[str, object]:
    """Queued → sent with a provider that makes no call: the dispatcher's own work."""
    count, rounds = (5_000, 3) if quick else (20_000, 5)
    samples = _rounds("own", count, rounds, baseline)
    return {"messages": count, "rounds": rounds, **_summary(samples, "per_s"), "aim_per_s": 10000}


def bench_enqueue(
    workdir: Path, quick: bool, baseline: Path | None = None, database_url: str | None = None
) -> dict[str, object]:
    """`storage.outbox.enqueue_many` of a broadcast's rows, and the whole broadcast (recipients
    chosen, drafted, confirmed, queued: bench_more.bench_broadcast_enqueue), on SQLite; the
    enqueue alone on PostgreSQL too when a URL is given."""
    count, rounds = (20_000, 3) if quick else (100_000, 5)
    enqueue = _rounds("enqueue", count, rounds, baseline)
    broadcast = _rounds("broadcast", count, rounds, baseline)
    figures: dict[str, object] = {
        "rows": count,
        "rounds": rounds,
        **_summary(enqueue, "seconds"),
        **{f"broadcast_{k}": v for k, v in _summary(broadcast, "seconds").items()},
        "aim_broadcast_seconds": 2,
    }
    if database_url:
        postgresql = _rounds("enqueue", count, rounds, baseline, database_url=database_url)
        figures |= {f"postgresql_{k}": v for k, v in _summary(postgresql, "seconds").items()}
    return figures


def outbox_benches(database_url: str | None, baseline: Path | None) -> dict[str, Any]:
    """The dispatcher and enqueue rows of `passnum bench` (old and new with `--baseline`)."""
    return {
        "dispatcher_http_other_process": partial(bench_dispatch_http, baseline=baseline),
        "dispatcher_own_work": partial(bench_dispatch_own, baseline=baseline),
        "outbox_enqueue": partial(bench_enqueue, baseline=baseline, database_url=database_url),
    }


if __name__ == "__main__":
    case_name, case_count, case_url, case_folder = sys.argv[1:5]
    print(json.dumps(run_case(case_name, int(case_count), case_url, case_folder)))
