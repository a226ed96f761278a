"""Builders shared by the staff tests: many beneficiaries at once, staff members, headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.outbox.dispatcher import DispatchConfig
from bot.outbox.pacing import PacingConfig
from storage.db import unit_of_work
from storage.models import Beneficiary
from storage.staff import StaffIdentity, create_staff

FAST = DispatchConfig(
    pacing=PacingConfig(None, None, None),
    batch_size=500,
    concurrency=32,
    claim_for=timedelta(minutes=5),
)
NOW = datetime.now(UTC)


def add_people(
    engine: Engine,
    n: int,
    *,
    insee: str = "38057",
    opted_out_every: int = 0,
    prefix: str = "+33698",
) -> list[str]:
    """`n` beneficiaries reachable by SMS in one insert; every k-th one opted out. Returns the
    phones of those who may be written to."""
    rows = [
        {
            "first_name": f"P{i}",
            "phone": f"{prefix}{i:06d}",
            "language": "fr",
            "commune_insee": insee,
            "reminders_enabled": True,
            "created_at": NOW,
            "opted_out": bool(opted_out_every) and i % opted_out_every == 0,
            "telegram_unreachable": False,
        }
        for i in range(n)
    ]
    with unit_of_work(engine) as session:
        session.execute(insert(Beneficiary), rows)
        session.commit()
    return [row["phone"] for row in rows if not row["opted_out"]]


def new_staff(
    engine: Engine,
    name: str,
    role: str = "advisor",
    places: list[int] | None = None,
    *,
    at: datetime = NOW,
    by: StaffIdentity | None = None,
) -> tuple[int, str]:
    """A staff member and their token, created `at` (an older account: a date in the past)
    by `by` (the operator when None)."""
    with unit_of_work(engine) as session:
        member, token = create_staff(
            session, name=name, role=role, place_ids=places or [], now=at, by=by
        )
        session.commit()
    return member.id or 0, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
