"""CSV imports on every database: bad rows reported by line, the rest loaded, re-import a no-op."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.outbox.notices import notice_composer
from config import load_settings
from storage.db import unit_of_work
from storage.imports import (
    ImportReport,
    RowError,
    import_beneficiaries,
    import_places,
    import_slots,
)
from storage.models import (
    Beneficiary,
    Booklet,
    OutboundMessage,
    Place,
    Slot,
    Topic,
    Voucher,
    VoucherStatus,
)

DATA = Path(__file__).parent / "data"
NOW = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)


def snapshot(session: Session, *models: Any) -> list[list[dict[str, Any]]]:
    """Every row of the tables, comparable before and after a re-import."""
    return [
        sorted((row.model_dump() for row in session.exec(select(model)).all()), key=repr)
        for model in models
    ]


def fetch(engine: Engine, model: Any, *where: Any) -> list[Any]:
    """Rows read in their own transaction, detached with their values loaded."""
    with unit_of_work(engine) as session:
        rows = list(session.exec(select(model).where(*where)).all())
        session.expunge_all()
    return rows


def load(engine: Engine, importer: Any, path: Path, **kwargs: Any) -> ImportReport:
    with unit_of_work(engine) as session:
        report = importer(session, path, **kwargs)
        session.commit()
    return report


def load_places(engine: Engine) -> None:
    load(engine, import_places, DATA / "places-courriel.csv")
    load(engine, import_places, DATA / "places-courriels.csv")


# ---------------------------------------------------------------- places


def test_places_bad_rows_are_reported_by_line_and_the_rest_load(engine: Engine) -> None:
    report = load(engine, import_places, DATA / "places-courriel.csv")

    # Line 4 holds a two-line quoted cell, so the row after it starts on line 6.
    assert report.errors == [
        RowError(6, "nom: missing"),
        RowError(8, "latitude: not a number ('45,1x')"),
        RowError(11, "commune 'Crolles' not found and no latitude/longitude"),
    ]
    assert (report.created, report.updated, report.unchanged) == (9, 0, 0)
    assert report.summary() == "9 created, 0 updated, 0 unchanged, 3 errors"


def test_places_fields_are_mapped(engine: Engine) -> None:
    load_places(engine)
    places = {p.external_id: p for p in fetch(engine, Place)}
    lilas = places["mednum-0001"]
    assert (lilas.name, lilas.postcode, lilas.insee) == (
        "Maison des habitants Les Lilas",
        "38100",
        "38185",
    )
    assert (lilas.latitude, lilas.longitude) == (45.16254, 5.73311)
    assert lilas.phone == "04 65 71 01 01"
    assert lilas.booking_info == "https://rdv.example.org/lilas"
    assert places["mednum-0003"].opening_hours == "Lundi : 9h-12h\nMercredi : 14h-17h"
    assert places["mednum-0011"].email == "noisetiers@example.org|atelier@example.org"
    assert places["mednum-0011"].services == (
        "Prendre en main un ordinateur|Devenir autonome dans les démarches administratives"
    )
    assert (places["mednum-0007"].latitude, places["mednum-0007"].longitude) == (45.2123, 5.7844)
    assert places["mednum-0101"].email == "peupliers@example.org|direction@example.org"
    assert places["mednum-0101"].address == "5, rue des Peupliers"


@pytest.mark.parametrize(
    ("external_id", "insee", "centroid"),
    [
        ("mednum-0002", "38151", (45.1471, 5.7153)),  # by code_insee
        ("mednum-0005", "38169", (45.1929, 5.6779)),  # by commune name
        ("mednum-0008", "38421", (45.1761, 5.765)),  # by a spelling of the name
        ("mednum-0010", "38158", (45.1512, 5.7487)),  # shared postcode, known name
        ("mednum-0101", "38317", (45.1259, 5.7017)),
    ],
)
def test_places_without_coordinates_get_the_commune_centroid(
    engine: Engine, external_id: str, insee: str, centroid: tuple[float, float]
) -> None:
    load_places(engine)
    [place] = fetch(engine, Place, Place.external_id == external_id)
    assert (place.insee, (place.latitude, place.longitude)) == (insee, centroid)


def test_places_comma_file_with_bom_and_courriels(engine: Engine) -> None:
    report = load(engine, import_places, DATA / "places-courriels.csv")
    assert report.errors == [RowError(5, "latitude: 91.5 is out of range [-90, 90]")]
    assert report.created == 3


def test_places_reimport_changes_nothing(engine: Engine) -> None:
    load_places(engine)
    with unit_of_work(engine) as session:
        before = snapshot(session, Place)

    again = load(engine, import_places, DATA / "places-courriel.csv")

    assert (again.created, again.updated, again.unchanged, len(again.errors)) == (0, 0, 9, 3)
    with unit_of_work(engine) as session:
        assert snapshot(session, Place) == before


def test_places_changed_row_is_updated(engine: Engine) -> None:
    load_places(engine)
    lines = (DATA / "places-courriel.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("Les Lilas", "Les Lilas Bleus")
    with unit_of_work(engine) as session:
        report = import_places(session, lines)
        session.commit()
    assert (report.created, report.updated, report.unchanged) == (0, 1, 8)


def test_places_missing_required_column_is_a_line_1_error(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        report = import_places(session, ["id;nom;adresse\n", "x;y;z\n"])
    assert report.errors == [RowError(1, "line 1: missing column(s) code_postal, commune")]


def test_places_duplicate_id_in_one_file(engine: Engine) -> None:
    rows = [
        "id,nom,adresse,code_postal,commune",
        "a,A,1 rue,38000,Grenoble",
        "a,B,2 rue,38000,Grenoble",
    ]
    with unit_of_work(engine) as session:
        report = import_places(session, rows)
    assert report.created == 1
    assert report.errors == [RowError(3, "'a' already on line 2")]


def test_progress_is_reported(engine: Engine) -> None:
    calls: list[tuple[int, int]] = []
    with unit_of_work(engine) as session:
        import_places(
            session, DATA / "places-courriel.csv", on_progress=lambda d, t: calls.append((d, t))
        )
    assert calls[-1] == (12, 12)


# ---------------------------------------------------------------- slots


def test_slots_bad_rows_and_times(engine: Engine) -> None:
    load_places(engine)
    report = load(engine, import_slots, DATA / "slots.csv")

    assert [error.line for error in report.errors] == [5, 6, 7, 8]
    assert "not an ISO 8601" in report.errors[0].reason
    assert "no place 'mednum-9999'" in report.errors[1].reason
    assert "'cuisine' is not one of" in report.errors[2].reason
    assert report.errors[3].reason == "ends_at: not after starts_at"
    assert report.created == 4
    slots = {s.external_id: s for s in fetch(engine, Slot)}
    assert len(fetch(engine, Topic)) == 8
    # Local Paris time: UTC+1 in March, UTC+2 in July; explicit offsets are kept.
    assert slots["slot-001"].starts_at == datetime(2030, 3, 4, 8, 30, tzinfo=UTC)
    assert slots["slot-003"].starts_at == datetime(2030, 7, 1, 7, 30, tzinfo=UTC)
    assert slots["slot-002"].starts_at == datetime(2030, 3, 4, 13, 0, tzinfo=UTC)
    assert slots["slot-008"].ends_at == datetime(2030, 3, 6, 11, 0, tzinfo=UTC)
    assert (slots["slot-002"].language, slots["slot-002"].title) == ("en", "E-mail in English")
    assert (slots["slot-001"].language, slots["slot-001"].capacity) == ("fr", 8)


def test_slots_reimport_keeps_bookings_and_refuses_capacity_below_them(engine: Engine) -> None:
    load_places(engine)
    load(engine, import_slots, DATA / "slots.csv")
    with unit_of_work(engine) as session:
        slot = session.exec(select(Slot).where(Slot.external_id == "slot-001")).one()
        slot.booked = 3
        session.commit()
        before = snapshot(session, Slot)

    again = load(engine, import_slots, DATA / "slots.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)

    lines = (DATA / "slots.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",8,", ",2,")
    with unit_of_work(engine) as session:
        shrunk = import_slots(session, lines)
        session.commit()
        assert snapshot(session, Slot) == before
    assert shrunk.errors[0] == RowError(2, "capacity: 2 is below the 3 seats already booked")


# ---------------------------------------------------------------- beneficiaries


def test_beneficiaries_bad_rows_and_the_rest(engine: Engine) -> None:
    report = load(engine, import_beneficiaries, DATA / "beneficiaries.csv", now=NOW)

    assert [error.line for error in report.errors] == [4, 5, 7, 8]
    assert report.errors[0].reason.startswith("phone: ")
    assert report.errors[1].reason == "expires_on: '31/12/2030' is not a YYYY-MM-DD date"
    assert report.errors[2].reason == "vouchers: 0 is not between 1 and 20"
    assert report.errors[3].reason == "commune: 'Paris' is not a commune of the metropolis"
    assert report.created == 4
    people = {b.first_name: b for b in fetch(engine, Beneficiary)}
    vouchers = fetch(engine, Voucher)
    assert (people["Aïcha"].phone, people["Aïcha"].commune_insee) == ("+33612345678", "38185")
    assert (people["Karim"].language, people["Karim"].commune_insee) == ("en", "38151")
    assert people["Samir"].commune_insee == "38421"
    assert people["Aïcha"].created_at == NOW
    assert len(vouchers) == 5 + 3 + 4 + 2
    codes = {v.code: v for v in vouchers}
    assert "PN-1001-05" in codes and "PN-1001-06" not in codes
    assert (codes["A3"].value_cents, codes["A3"].expires_on) == (1500, date(2030, 12, 31))
    assert codes["PN-1002-01"].value_cents == 1000


def test_beneficiaries_reimport_changes_nothing(engine: Engine) -> None:
    load(engine, import_beneficiaries, DATA / "beneficiaries.csv", now=NOW)
    with unit_of_work(engine) as session:
        before = snapshot(session, Beneficiary, Booklet, Voucher)

    later = datetime(2030, 2, 1, tzinfo=UTC)
    again = load(engine, import_beneficiaries, DATA / "beneficiaries.csv", now=later)

    assert (again.created, again.updated, again.unchanged, len(again.errors)) == (0, 0, 4, 4)
    with unit_of_work(engine) as session:
        assert snapshot(session, Beneficiary, Booklet, Voucher) == before


def test_beneficiaries_update_never_touches_used_vouchers(engine: Engine) -> None:
    load(engine, import_beneficiaries, DATA / "beneficiaries.csv", now=NOW)
    with unit_of_work(engine) as session:
        used = (("PN-1001-01", VoucherStatus.REDEEMED), ("PN-1001-05", VoucherStatus.RESERVED))
        for code, status in used:
            session.exec(select(Voucher).where(Voucher.code == code)).one().status = status.value
        session.commit()

    rows = [
        "booklet_number,first_name,phone,vouchers,expires_on,verification_code",
        "PN-1001,Aïcha B.,+33 6 12 34 56 79,3,2031-06-30,4321",
    ]
    with unit_of_work(engine) as session:
        report = import_beneficiaries(session, rows, now=NOW)
        session.commit()
    vouchers = {v.code: v for v in fetch(engine, Voucher, col(Voucher.code).startswith("PN-1001"))}
    [booklet] = fetch(engine, Booklet, Booklet.number == "PN-1001")
    [holder] = fetch(engine, Beneficiary, Beneficiary.id == booklet.beneficiary_id)

    assert report.updated == 1
    assert (holder.first_name, holder.phone) == ("Aïcha B.", "+33612345679")
    assert booklet.verification_code == "4321"
    statuses = {code: (v.status, v.expires_on) for code, v in vouchers.items()}
    assert statuses == {
        "PN-1001-01": ("redeemed", date(2030, 12, 31)),  # used: untouched
        "PN-1001-02": ("available", date(2031, 6, 30)),
        "PN-1001-03": ("available", date(2031, 6, 30)),
        "PN-1001-04": ("expired", date(2030, 12, 31)),  # left out of the file: withdrawn
        "PN-1001-05": ("reserved", date(2030, 12, 31)),  # reserved: untouched
    }


def test_beneficiaries_new_booklet_for_a_known_phone_is_the_same_person(engine: Engine) -> None:
    """Same phone and first name: a second booklet. Same phone, another name: another person's
    row, reported, and the holder of the phone keeps their name and booklets."""
    load(engine, import_beneficiaries, DATA / "beneficiaries.csv", now=NOW)
    rows = [
        "booklet_number;first_name;phone;vouchers;expires_on;verification_code",
        "PN-2001;Aïcha;0612345678;2;2031-12-31;9999",
        "PN-2002;Someone;+33781234567;2;2031-12-31;9999",
    ]
    with unit_of_work(engine) as session:
        report = import_beneficiaries(session, rows, now=NOW)
        session.commit()
    people = fetch(engine, Beneficiary)
    booklets = {b.number: b.beneficiary_id for b in fetch(engine, Booklet)}
    assert report.created == 1 and len(people) == 4
    assert report.errors == [
        RowError(3, "phone: already registered to another beneficiary (+33 7** ** ** 67)")
    ]
    assert booklets["PN-2001"] == booklets["PN-1001"] and "PN-2002" not in booklets
    assert {p.first_name for p in people if p.phone == "+33781234567"} == {"Karim"}


def test_beneficiaries_row_of_another_person_on_a_known_booklet_is_refused(
    engine: Engine,
) -> None:
    """Name and phone both different: not a correction but someone else's row."""
    load(engine, import_beneficiaries, DATA / "beneficiaries.csv", now=NOW)
    rows = [
        "booklet_number,first_name,phone,vouchers,expires_on,verification_code",
        "PN-1001,Mallory,06 99 99 99 99,5,2030-12-31,0000",
    ]
    with unit_of_work(engine) as session:
        report = import_beneficiaries(session, rows, now=NOW)
        session.commit()
    assert report.errors == [
        RowError(
            2,
            "booklet_number: PN-1001 belongs to another person (first name and phone both differ)",
        )
    ]
    [booklet] = fetch(engine, Booklet, Booklet.number == "PN-1001")
    [holder] = fetch(engine, Beneficiary, Beneficiary.id == booklet.beneficiary_id)
    assert (holder.first_name, holder.phone, booklet.verification_code) == (
        "Aïcha",
        "+33612345678",
        "1234",
    )


def test_beneficiaries_phone_changed_by_import_tells_the_old_phone(engine: Engine) -> None:
    load(engine, import_beneficiaries, DATA / "beneficiaries.csv", now=NOW)
    rows = [
        "booklet_number,first_name,phone,vouchers,expires_on,verification_code",
        "PN-1001,Aïcha,06 12 34 56 79,5,2030-12-31,1234",
    ]
    for _ in range(2):  # the second import changes nothing and tells nobody again
        with unit_of_work(engine) as session:
            import_beneficiaries(session, rows, now=NOW, notices=notice_composer(load_settings()))
            session.commit()
    notices = fetch(engine, OutboundMessage)
    assert [(m.address, m.channel) for m in notices] == [("+33612345678", "sms")]
    assert "numéro de téléphone a été changé" in (notices[0].body or "")


def test_beneficiaries_voucher_code_of_another_booklet_is_refused(engine: Engine) -> None:
    load(engine, import_beneficiaries, DATA / "beneficiaries.csv", now=NOW)
    rows = [
        "booklet_number,first_name,phone,vouchers,expires_on,verification_code,voucher_codes",
        "PN-3001,Léa,0622334455,2,2031-12-31,1,A1|Z9",
    ]
    with unit_of_work(engine) as session:
        report = import_beneficiaries(session, rows, now=NOW)
    assert report.errors == [RowError(2, "voucher_codes: 'A1' is already in booklet PN-1005")]


def test_many_beneficiaries_load_in_batches(engine: Engine) -> None:
    header = "booklet_number,first_name,phone,vouchers,expires_on,verification_code"
    rows = [header] + [
        f"B-{i:05d},P{i},+336{i:08d},3,2031-01-31,{i % 10000}" for i in range(1, 1201)
    ]
    with unit_of_work(engine) as session:
        report = import_beneficiaries(session, rows, now=NOW)
        session.commit()
        count = len(session.exec(select(Voucher)).all())
    assert (report.created, report.errors, count) == (1200, [], 3600)
