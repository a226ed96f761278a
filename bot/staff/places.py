"""Places as staff commands: the list a staff member may see, and the import of the national
open-data CSV of digital-inclusion places (admins only, audited `places.import`, the same
import as `passnum import places`), answered with its per-row error report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bot.staff.rows import detached
from bot.staff.service import Command, Context, Handler
from storage.console_queries import places_by_commune
from storage.imports import ImportReport, import_places
from storage.models import Place
from storage.staff import StaffRefused

__all__ = ["HANDLERS", "ImportPlaces", "ListPlaces"]


@dataclass(frozen=True)
class ImportPlaces(Command[ImportReport]):
    """`{"lines": ["id,nom,commune,…", "…"]}`: upsert the places of the CSV (admins only);
    rows in error are reported, the others imported."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class ListPlaces(Command[list[Place]]):
    """`{}` → the places this staff member may see (admins: all), by commune then name."""

    read_only: ClassVar[bool] = True


def import_places_from_csv(context: Context, command: ImportPlaces) -> ImportReport:
    if not context.staff.is_admin:
        raise StaffRefused("forbidden", "only an admin may import places")
    report = import_places(context.session, list(command.lines))
    context.audit("places.import", None, report.summary())
    return report


def list_places(context: Context, command: ListPlaces) -> list[Place]:
    place_ids = None if context.staff.is_admin else context.staff.place_ids
    return detached(context.session, places_by_commune(context.session, place_ids=place_ids))


HANDLERS: dict[type[Any], Handler] = {
    ImportPlaces: import_places_from_csv,
    ListPlaces: list_places,
}
