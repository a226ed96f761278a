"""Import of places (open-data schema of digital-inclusion places, SPEC section 5)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from config.reference import Commune
from storage.geo import PlaceResolver, default_resolver
from storage.imports.cells import limited, multi, number
from storage.imports.csv_reading import (
    CsvRow,
    ImportReport,
    Outcome,
    Progress,
    RowProblem,
    Source,
    header_error,
    read_csv,
)
from storage.imports.running import apply_changes, fetch_in, mark_seen, run_rows
from storage.models import Place
from storage.phones import display_phone

__all__ = ["PLACE_COLUMNS", "import_places"]

PLACE_COLUMNS = ("id", "nom", "adresse", "code_postal", "commune")


def import_places(
    session: Session,
    path_or_lines: Source,
    on_progress: Progress | None = None,
    *,
    resolver: PlaceResolver | None = None,
) -> ImportReport:
    """Upsert places by `id` (open-data schema of digital-inclusion places, SPEC section 5)."""
    try:
        rows = read_csv(path_or_lines, PLACE_COLUMNS)
    except RowProblem as problem:
        return header_error(problem)
    resolver = resolver or default_resolver()
    existing = {
        p.external_id: p
        for p in fetch_in(session, Place, Place.external_id, [r.get("id") for r in rows])
    }
    seen: dict[str, int] = {}

    def handle(row: CsvRow) -> Outcome:
        values = _place_values(row, resolver)
        mark_seen(seen, values["external_id"], row)
        place = existing.get(values["external_id"])
        if place is None:
            existing[values["external_id"]] = place = Place(**values)
            session.add(place)
            return "created"
        return "updated" if apply_changes(place, values) else "unchanged"

    return run_rows(session, rows, handle, on_progress)


def _place_values(row: CsvRow, resolver: PlaceResolver) -> dict[str, Any]:
    postcode = row.required("code_postal")
    if not re.fullmatch(r"\d{5}", postcode):
        raise RowProblem(f"code_postal: {postcode!r} is not 5 digits")
    name, address, commune_name = (
        row.required("nom"),
        row.required("adresse"),
        row.required("commune"),
    )
    commune = _place_commune(row, resolver)
    latitude, longitude = _place_coordinates(row, commune)
    return {
        "external_id": limited(row.required("id"), "id", 128),
        "name": name,
        "address": address,
        "postcode": postcode,
        "commune": commune_name,
        "insee": commune.insee if commune else _insee_or_none(row.get("code_insee")),
        "latitude": latitude,
        "longitude": longitude,
        "phone": display_phone(row.get("telephone")) or None,
        "email": multi(row.get("courriels") or row.get("courriel")),
        "website": multi(row.get("site_web")),
        "opening_hours": row.get("horaires") or None,
        "booking_info": row.get("prise_rdv") or None,
        "services": multi(row.get("services")),
    }


def _insee_or_none(code: str) -> str | None:
    if code and not re.fullmatch(r"\d[\dAB]\d{3}", code):  # 2A/2B: Corsica
        raise RowProblem(f"code_insee: {code!r} is not an INSEE code")
    return code or None


def _place_commune(row: CsvRow, resolver: PlaceResolver) -> Commune | None:
    """Our commune of the place: by INSEE code, else by name, else by an unshared postcode."""
    by_code = resolver.commune_by_insee(row.get("code_insee"))
    if by_code:
        return by_code
    for text in (row.get("commune"), row.get("code_postal")):
        found = resolver.communes_for(text)
        if len(found) == 1:
            return found[0]
    return None


def _place_coordinates(row: CsvRow, commune: Commune | None) -> tuple[float, float]:
    """The place's own coordinates, or its commune's centroid when it has none."""
    if not row.get("latitude") and not row.get("longitude"):
        if commune is None:
            raise RowProblem(f"commune {row.get('commune')!r} not found and no latitude/longitude")
        return commune.latitude, commune.longitude
    latitude = number(row.required("latitude"), "latitude", -90, 90)
    longitude = number(row.required("longitude"), "longitude", -180, 180)
    return latitude, longitude
