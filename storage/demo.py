"""The demo data set: real commune geography, invented places, slots and people.

Try it with `printf '1\\n' | passnum chat --phone +33612345678`:

- beneficiary #1, Aïcha: phone **+33612345678**, booklet **PN-0001**, verification code **1234**;
- beneficiary #2, Mamadou (PN-0002): every voucher already used (the "no voucher left" path);
- beneficiary #5, Emeka (PN-0005): speaks English; Friday sessions at place 01 are in English.

The demo goes through the CSV importers, so it is idempotent the same way: stable external ids,
slots keyed by place and date. A later run adds the new days of its four-week window and
changes nothing else. Place phones are in the 04 65 71 range ARCEP reserves for fiction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.reference import communes, neighbourhoods, topics
from storage.imports import (
    ensure_topics,
    import_beneficiaries,
    import_places,
    import_slots,
)
from storage.models import Booklet, Place, Slot, Topic, Voucher, VoucherStatus

__all__ = ["DEMO_BOOKLET", "DEMO_CODE", "DEMO_PHONE", "DemoError", "DemoSummary", "load_demo"]

DEMO_PHONE = "+33612345678"
DEMO_BOOKLET = "PN-0001"
DEMO_CODE = "1234"
DAYS_AHEAD = 28
PARIS = ZoneInfo("Europe/Paris")

# first name, language, commune INSEE — names invented, from many origins
_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("Aïcha", "fr", "38185"), ("Mamadou", "fr", "38151"), ("Jean-Pierre", "fr", "38421"),
    ("Mei", "fr", "38185"), ("Emeka", "en", "38185"), ("Oleksandr", "fr", "38169"),
    ("Nadia", "fr", "38151"), ("Bruno", "fr", "38317"), ("Yasmina", "fr", "38421"),
    ("Kofi", "fr", "38185"), ("Leïla", "fr", "38485"), ("Dragan", "fr", "38229"),
    ("Ayşe", "fr", "38185"), ("Hamza", "fr", "38382"), ("Sophie", "fr", "38185"),
    ("Thi Lan", "fr", "38151"), ("Inès", "fr", "38169"), ("Rosa", "fr", "38421"),
    ("Samir", "fr", "38185"), ("Marguerite", "fr", "38229"),
)  # fmt: skip

# (start, end) local times; every session fits in 9h–17h
_TIMES = (
    (9, 0, 11, 0), (9, 30, 11, 30), (10, 0, 12, 0),
    (14, 0, 16, 0), (14, 30, 16, 30), (15, 0, 17, 0),
)  # fmt: skip
_SERVICES = (
    "Prendre en main un smartphone ou une tablette|Prendre en main un ordinateur"
    "|Devenir autonome dans les démarches administratives"
)


class DemoError(RuntimeError):
    """The demo data did not import cleanly: a bug in this module, never in the user's data."""


@dataclass(frozen=True)
class DemoSummary:
    """Demo records present after the run, and how many rows this run created.
    `{"topics": 8, "places": 15, "slots": 260, "beneficiaries": 20, "vouchers": 150,
    "created": 0}`"""

    topics: int
    places: int
    slots: int
    beneficiaries: int
    vouchers: int
    created: int


def load_demo(session: Session, now: datetime, *, tz: tzinfo = PARIS) -> DemoSummary:
    """Create or refresh the demo data; does not commit. Running it twice changes nothing."""
    created = ensure_topics(session)
    today = now.astimezone(tz).date()
    places = _demo_places()
    reports = [
        import_places(session, _csv(_place_rows(places))),
        import_slots(session, _csv(_slot_rows(today, places)), tz=tz),
        import_beneficiaries(session, _csv(_people_rows(today)), now=now),
    ]
    for report in reports:
        if report.errors:
            raise DemoError(f"demo data refused: {report.errors[:3]}")
    _use_all_vouchers(session, "PN-0002", now)
    return _summary(session, created + sum(report.created for report in reports))


def _csv(rows: Sequence[dict[str, Any]]) -> Iterable[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().splitlines()


def _demo_places() -> list[dict[str, str]]:
    text = resources.files("config").joinpath("demo-places.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines(), delimiter=";"))


def _place_rows(places: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """demo-places.csv in the open-data format, placed at a centroid plus a small offset."""
    centres = {c.insee: (c.name, c.latitude, c.longitude) for c in communes()}
    hoods = {h.name: (h.latitude, h.longitude) for h in neighbourhoods()}
    rows = []
    for place in places:
        commune, lat, lon = centres[place["code_insee"]]
        lat, lon = hoods[place["quartier"]] if place["quartier"] else (lat, lon)
        rows.append(
            {
                "id": f"demo-place-{place['key']}",
                "nom": place["nom"],
                "adresse": place["adresse"],
                "code_postal": place["code_postal"],
                "commune": commune,
                "code_insee": place["code_insee"],
                "latitude": round(lat + int(place["dlat"]) / 1000, 5),
                "longitude": round(lon + int(place["dlon"]) / 1000, 5),
                "telephone": f"04 65 71 00 {place['key']}",
                "horaires": "Mo-Fr 09:00-12:00,13:30-17:00",
                "prise_rdv": "Par SMS ou Telegram avec le Pass numérique",
                "services": _SERVICES,
            }
        )
    return rows


def _slot_rows(today: date, places: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """Two weekdays in three at each place, one session a day; chosen from the date, not `today`,
    so the same day always gets the same session whichever day the demo is run."""
    keys = [info.key for info in topics()]
    rows = []
    for day in (today + timedelta(days=n) for n in range(1, DAYS_AHEAD + 1)):
        if day.weekday() >= 5:
            continue
        for index, key in enumerate(place["key"] for place in places):
            n = day.toordinal() + 3 * index
            if n % 3 == 0:
                continue
            start_h, start_m, end_h, end_m = _TIMES[n % len(_TIMES)]
            english = index == 0 and day.weekday() == 4
            rows.append(
                {
                    "id": f"demo-slot-{key}-{day:%Y%m%d}",
                    "place_id": f"demo-place-{key}",
                    "topic": keys[(n // 3 + index) % len(keys)],
                    "starts_at": datetime.combine(day, time(start_h, start_m)).isoformat(),
                    "ends_at": datetime.combine(day, time(end_h, end_m)).isoformat(),
                    "capacity": 4 + n % 7,
                    "language": "en" if english else "fr",
                    "title": "Session in English" if english else "",
                }
            )
    return rows


def _people_rows(today: date) -> list[dict[str, Any]]:
    expires_on = _end_of_month(today, months_ahead=4)
    rows = []
    for number, (first_name, language, insee) in enumerate(_PEOPLE, start=1):
        rows.append(
            {
                "booklet_number": f"PN-{number:04d}",
                "first_name": first_name,
                "phone": DEMO_PHONE if number == 1 else f"+336123456{number:02d}",
                "vouchers": 5 + (number * 3) % 6,
                "expires_on": expires_on.isoformat(),
                "verification_code": DEMO_CODE
                if number == 1
                else f"{(number * 7919) % 9000 + 1000}",
                "language": language,
                "commune": insee,
            }
        )
    return rows


def _end_of_month(day: date, months_ahead: int) -> date:
    """Last day of the month `months_ahead` after `day`'s: stable for a month, so reruns agree."""
    month_index = day.year * 12 + day.month - 1 + months_ahead + 1
    first_of_next = date(month_index // 12, month_index % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def _use_all_vouchers(session: Session, booklet_number: str, now: datetime) -> None:
    query = (
        select(Voucher)
        .join(Booklet, col(Booklet.id) == col(Voucher.booklet_id))
        .where(Booklet.number == booklet_number, Voucher.status != VoucherStatus.REDEEMED.value)
    )
    for voucher in session.exec(query).all():
        voucher.status = VoucherStatus.REDEEMED.value
        voucher.updated_at = now
    session.flush()


def _summary(session: Session, created: int) -> DemoSummary:
    numbers = [f"PN-{number:04d}" for number in range(1, len(_PEOPLE) + 1)]
    booklet_ids = select(Booklet.id).where(col(Booklet.number).in_(numbers))

    def count(model: Any, condition: Any = None) -> int:
        query = select(func.count()).select_from(model)
        return session.exec(query if condition is None else query.where(condition)).one()

    return DemoSummary(
        topics=count(Topic),
        places=count(Place, col(Place.external_id).startswith("demo-place-")),
        slots=count(Slot, col(Slot.external_id).startswith("demo-slot-")),
        beneficiaries=count(Booklet, col(Booklet.number).in_(numbers)),
        vouchers=count(Voucher, col(Voucher.booklet_id).in_(booklet_ids)),
        created=created,
    )
