"""A varied, deterministic data set for reminder planning, and the rows planning produces.

`planned_rows` is compared with `data/planned_reminders.jsonl` (one row per line), captured
from the per-row planner
that came before the set-based one: the two must queue exactly the same messages.
Regenerate (after a deliberate change only): `python -m tests.outbox.planning_golden`.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.outbox.scheduler import plan
from config import Settings
from storage.models import (
    Beneficiary,
    Booking,
    Booklet,
    OutboundMessage,
    Place,
    Slot,
    Topic,
    Voucher,
)

__all__ = ["GOLDEN", "PLAN_TIMES", "planned_rows", "seed"]

GOLDEN = Path(__file__).parent / "data" / "planned_reminders.jsonl"
PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 12, 18, 9, 0, tzinfo=PARIS)  # a Friday before Christmas
# Planning passes at these moments (each once, in order), over quiet hours, a Sunday, Christmas.
PLAN_TIMES = [START + timedelta(hours=h) for h in (0, 1, 11, 24, 49, 72, 96, 130, 170)]


def seed(engine: Engine) -> None:
    """Places, slots and people with every channel, language and status combination."""
    rng = random.Random(20261218)
    created = START - timedelta(days=10)
    with engine.begin() as conn:
        conn.execute(insert(Topic), [{"key": "email", "label_fr": "E-mail", "label_en": "E-mail"}])
        places = [
            conn.execute(
                insert(Place).returning(Place.id),
                [
                    {
                        "external_id": f"p{i}",
                        "name": f"Maison {i}",
                        "address": f"{i} rue Haute",
                        "postcode": "38000",
                        "commune": "Grenoble",
                        "latitude": 45.18,
                        "longitude": 5.72,
                        "phone": None if i == 2 else f"0476000{i:03d}",
                    }
                ],
            ).scalar_one()
            for i in range(4)
        ]
        slots = []
        for s in range(60):
            starts = START + timedelta(
                days=rng.randint(0, 9),
                hours=rng.choice([-1, 0, 1, 4, 5, 9]),
                minutes=rng.choice([0, 10, 30]),
            )
            slots.append(
                conn.execute(
                    insert(Slot).returning(Slot.id),
                    [
                        {
                            "external_id": f"s{s}",
                            "place_id": rng.choice(places),
                            "topic": "email",
                            "starts_at": starts,
                            "ends_at": starts + timedelta(hours=2),
                            "capacity": 20,
                            "booked": 0,
                            "cancelled": s % 17 == 0,
                        }
                    ],
                ).scalar_one()
            )
        for p in range(400):
            has_phone, has_tg = p % 5 != 0, p % 3 == 0
            person = conn.execute(
                insert(Beneficiary).returning(Beneficiary.id),
                [
                    {
                        "first_name": f"P{p}",
                        "phone": f"+3361{p:07d}" if has_phone else None,
                        "telegram_chat_id": 9000 + p if has_tg else None,
                        "language": rng.choice(["fr", "fr", "en", "de"]),
                        "reminders_enabled": p % 23 != 0,
                        "opted_out": p % 29 == 0,
                        "telegram_unreachable": p % 31 == 0,
                        "preferred_channel": rng.choice([None, None, "sms", "telegram"]),
                        "last_channel": rng.choice([None, "sms", "telegram"]),
                        "created_at": created,
                    }
                ],
            ).scalar_one()
            booklet = conn.execute(
                insert(Booklet).returning(Booklet.id),
                [
                    {
                        "number": f"PN-{p:04d}",
                        "verification_code": "1",
                        "beneficiary_id": person,
                        "issued_at": created,
                    }
                ],
            ).scalar_one()
            for v in range(2):
                voucher = conn.execute(
                    insert(Voucher).returning(Voucher.id),
                    [
                        {
                            "code": f"V{p}-{v}",
                            "booklet_id": booklet,
                            "expires_on": date(2027, 1, 1 + p % 28),
                            "status": "reserved" if v == 0 else "available",
                            "updated_at": created,
                        }
                    ],
                ).scalar_one()
                if v == 0:
                    booked_at = START + timedelta(hours=rng.choice([-240, -30, -2, 20, 50]))
                    conn.execute(
                        insert(Booking),
                        [
                            {
                                "slot_id": rng.choice(slots),
                                "beneficiary_id": person,
                                "voucher_id": voucher,
                                "status": rng.choice(["booked"] * 6 + ["cancelled", "no_show"]),
                                "created_at": booked_at,
                                "updated_at": booked_at,
                            }
                        ],
                    )


def planned_rows(engine: Engine) -> list[dict[str, Any]]:
    """Plan at every PLAN_TIMES moment; every outbox row, as plain JSON values."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for moment in PLAN_TIMES:
        plan(engine, settings, now=moment)
    columns = [
        "channel",
        "address",
        "beneficiary_id",
        "body",
        "segments",
        "dedupe_key",
        "status",
        "next_attempt_at",
        "not_after",
        "created_at",
        "error",
    ]
    with engine.connect() as conn:
        rows = conn.execute(
            select(*(getattr(OutboundMessage, c) for c in columns)).order_by(
                OutboundMessage.dedupe_key
            )
        ).all()
    return [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows]


def _plain(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


if __name__ == "__main__":
    import tempfile

    from storage.db import create_db_engine
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{folder}/golden.db")
        upgrade(engine)
        seed(engine)
        rows = planned_rows(engine)
        GOLDEN.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        print(f"{GOLDEN}: {len(rows)} rows")
