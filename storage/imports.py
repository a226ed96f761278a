"""CSV imports of places, slots and beneficiaries (SPEC section 5).

Every import reads the whole file, checks each row on its own, reports a bad row with its line
number and loads the others. Re-importing the same file changes nothing: rows are matched on their
external id (booklet number for beneficiaries) and only differences are written. The functions
take a Session and never commit: the caller's unit of work does.

`path_or_lines` is a file path (str or PathLike) or an iterable of text lines (tests, the demo);
`on_progress(rows_done, rows_total)` is called every hundred rows and at the end.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session, col, select

from config.reference import Commune, topics
from storage.geo import PlaceResolver, default_resolver
from storage.models import Beneficiary, Booklet, Place, Slot, Topic, Voucher, VoucherStatus
from storage.phones import InvalidPhone, display_phone, mask_phone, normalize_phone

__all__ = [
    "BATCH_SIZE",
    "CsvRow",
    "ImportReport",
    "Outcome",
    "Progress",
    "RowError",
    "RowProblem",
    "Source",
    "ensure_topics",
    "fetch_in",
    "import_beneficiaries",
    "import_places",
    "import_slots",
    "read_csv",
    "run_rows",
]

BATCH_SIZE = 500  # rows between flushes, and keys per IN (...) query
PROGRESS_EVERY = 100
Source = str | os.PathLike[str] | Iterable[str]
Progress = Callable[[int, int], None]
Outcome = str  # "created", "updated" or "unchanged"
T = TypeVar("T")


@dataclass(frozen=True)
class RowError:
    """`{"line": 7, "reason": "latitude: not a number ('45,1x')"}`; line 1 is the header."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did. `{"created": 9, "updated": 0, "unchanged": 0, "errors": [...]}`"""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal: "9 created, 0 updated, 0 unchanged, 3 errors"."""
        plural = "" if len(self.errors) == 1 else "s"
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.errors)} error{plural}"
        )

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


class RowProblem(ValueError):
    """A row that cannot be loaded; the message is the reason shown to staff."""


@dataclass(frozen=True)
class CsvRow:
    """One data row: its first line in the file, and its cells by lower-case column name."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")

    def required(self, column: str) -> str:
        value = self.get(column)
        if not value:
            raise RowProblem(f"{column}: missing")
        return value


# ---------------------------------------------------------------- reading


def read_csv(source: Source, required: Sequence[str]) -> list[CsvRow]:
    """All data rows of a UTF-8 CSV (BOM or not, comma or semicolon); RowProblem on a bad header."""
    lines = _lines(source)
    if not lines:
        raise RowProblem("empty file")
    lines[0] = lines[0].removeprefix("\ufeff")
    # Counting in the header is more reliable than csv.Sniffer on short files.
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    missing = [name for name in required if name not in header]
    if missing:
        raise RowProblem(f"line 1: missing column(s) {', '.join(missing)}")
    return list(_data_rows(reader, header))


def _lines(source: Source) -> list[str]:
    if isinstance(source, str | os.PathLike):
        # newline="" keeps line breaks inside quoted cells for the csv module.
        with Path(source).open(encoding="utf-8-sig", newline="") as handle:
            return handle.read().splitlines(keepends=True)
    return [line if line.endswith("\n") else line + "\n" for line in source]


def _data_rows(reader: Any, header: list[str]) -> Iterator[CsvRow]:
    line = reader.line_num + 1
    for values in reader:
        if any(value.strip() for value in values):
            cells = {
                name: value.strip() for name, value in zip(header, values, strict=False) if name
            }
            yield CsvRow(line, cells)
        line = reader.line_num + 1  # a quoted cell may span several lines


# ---------------------------------------------------------------- running


def run_rows(
    session: Session,
    rows: Sequence[CsvRow],
    handle: Callable[[CsvRow], Outcome],
    on_progress: Progress | None,
    after_batch: Callable[[], None] | None = None,
) -> ImportReport:
    """Apply `handle` to each row, collecting outcomes and errors; flush every BATCH_SIZE rows.

    `handle` must check everything before it changes anything, so a refused row leaves no trace.
    """
    report = ImportReport()
    for done, row in enumerate(rows, start=1):
        try:
            report.count(handle(row))
        except RowProblem as problem:
            report.errors.append(RowError(row.line, str(problem)))
        if done % BATCH_SIZE == 0:
            (after_batch or session.flush)()
        if on_progress and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            on_progress(done, len(rows))
    (after_batch or session.flush)()
    return report


def fetch_in(session: Session, model: type[T], column: Any, keys: Iterable[Any]) -> list[T]:
    """Rows whose `column` is in `keys`, queried BATCH_SIZE keys at a time."""
    unique = sorted({key for key in keys if key is not None})
    found: list[T] = []
    for start in range(0, len(unique), BATCH_SIZE):
        chunk = unique[start : start + BATCH_SIZE]
        found.extend(session.exec(select(model).where(col(column).in_(chunk))).all())  # type: ignore[attr-defined]
    return found


def ensure_topics(session: Session) -> int:
    """Create or refresh the Topic rows from config.reference; returns how many were written."""
    existing = {topic.key: topic for topic in session.exec(select(Topic)).all()}  # type: ignore[attr-defined]
    written = 0
    for info in topics():
        values: dict[str, Any] = {
            "label_fr": info.label_fr,
            "label_en": info.label_en,
            "inclusion_theme": info.inclusion_theme,
        }
        topic = existing.get(info.key)
        if topic is None:
            session.add(Topic(key=info.key, **values))
            written += 1
        elif apply_changes(topic, values):
            written += 1
    session.flush()
    return written


def apply_changes(record: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when something changed."""
    changed = False
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


def _header_error(problem: RowProblem) -> ImportReport:
    return ImportReport(errors=[RowError(1, str(problem))])


def _mark_seen(seen: dict[str, int], key: str, row: CsvRow) -> None:
    """A key twice in one file is a mistake in the file, not an update."""
    if key in seen:
        raise RowProblem(f"{key!r} already on line {seen[key]}")
    seen[key] = row.line


def _limited(value: str, column: str, max_length: int) -> str:
    if len(value) > max_length:
        raise RowProblem(f"{column}: longer than {max_length} characters")
    return value


def _multi(text: str) -> str | None:
    """`"a | b||c"` → `"a|b|c"`: multi-valued cells are stored joined, cleaned."""
    return "|".join(part.strip() for part in text.split("|") if part.strip()) or None


def _number(text: str, column: str, low: float, high: float) -> float:
    try:
        value = float(text.replace(",", "."))  # French spreadsheets write 45,18
    except ValueError:
        raise RowProblem(f"{column}: not a number ({text!r})") from None
    if not low <= value <= high:  # also refuses nan
        raise RowProblem(f"{column}: {text} is out of range [{low:g}, {high:g}]")
    return value


def _integer(text: str, column: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise RowProblem(f"{column}: not a whole number ({text!r})") from None
    if not low <= value <= high:
        raise RowProblem(f"{column}: {value} is not between {low} and {high}")
    return value


# ---------------------------------------------------------------- places

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
        return _header_error(problem)
    resolver = resolver or default_resolver()
    existing = {
        p.external_id: p
        for p in fetch_in(session, Place, Place.external_id, [r.get("id") for r in rows])
    }
    seen: dict[str, int] = {}

    def handle(row: CsvRow) -> Outcome:
        values = _place_values(row, resolver)
        _mark_seen(seen, values["external_id"], row)
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
        "external_id": _limited(row.required("id"), "id", 128),
        "name": name,
        "address": address,
        "postcode": postcode,
        "commune": commune_name,
        "insee": commune.insee if commune else _insee_or_none(row.get("code_insee")),
        "latitude": latitude,
        "longitude": longitude,
        "phone": display_phone(row.get("telephone")) or None,
        "email": _multi(row.get("courriels") or row.get("courriel")),
        "website": _multi(row.get("site_web")),
        "opening_hours": row.get("horaires") or None,
        "booking_info": row.get("prise_rdv") or None,
        "services": _multi(row.get("services")),
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
    latitude = _number(row.required("latitude"), "latitude", -90, 90)
    longitude = _number(row.required("longitude"), "longitude", -180, 180)
    return latitude, longitude


# ---------------------------------------------------------------- slots

SLOT_COLUMNS = ("id", "place_id", "topic", "starts_at", "ends_at", "capacity")
PARIS = ZoneInfo("Europe/Paris")


def import_slots(
    session: Session,
    path_or_lines: Source,
    on_progress: Progress | None = None,
    *,
    tz: tzinfo = PARIS,
) -> ImportReport:
    """Upsert slots by `id`; times without an offset are local (`tz`). `booked` is never reset."""
    try:
        rows = read_csv(path_or_lines, SLOT_COLUMNS)
    except RowProblem as problem:
        return _header_error(problem)
    ensure_topics(session)
    topic_keys = {info.key for info in topics()}
    places = fetch_in(session, Place, Place.external_id, [r.get("place_id") for r in rows])
    place_ids = {place.external_id: place.id for place in places}
    existing = {
        s.external_id: s
        for s in fetch_in(session, Slot, Slot.external_id, [r.get("id") for r in rows])
    }
    seen: dict[str, int] = {}

    def handle(row: CsvRow) -> Outcome:
        values = _slot_values(row, place_ids, topic_keys, tz)
        _mark_seen(seen, values["external_id"], row)
        slot = existing.get(values["external_id"])
        if slot is None:
            existing[values["external_id"]] = slot = Slot(**values)
            session.add(slot)
            return "created"
        if values["capacity"] < slot.booked:
            raise RowProblem(
                f"capacity: {values['capacity']} is below the {slot.booked} seats already booked"
            )
        return "updated" if apply_changes(slot, values) else "unchanged"

    return run_rows(session, rows, handle, on_progress)


def _slot_values(
    row: CsvRow, place_ids: dict[str, int | None], topic_keys: set[str], tz: tzinfo
) -> dict[str, Any]:
    place_id = place_ids.get(row.required("place_id"))
    if place_id is None:
        raise RowProblem(f"place_id: no place {row.get('place_id')!r} (import places first)")
    topic = row.required("topic").lower()
    if topic not in topic_keys:
        raise RowProblem(f"topic: {topic!r} is not one of {', '.join(sorted(topic_keys))}")
    starts_at, ends_at = _when(row, "starts_at", tz), _when(row, "ends_at", tz)
    if ends_at <= starts_at:
        raise RowProblem("ends_at: not after starts_at")
    language = row.get("language").lower() or "fr"
    if not re.fullmatch(r"[a-z]{2}", language):
        raise RowProblem(f"language: {language!r} is not a two-letter code")
    return {
        "external_id": _limited(row.required("id"), "id", 128),
        "place_id": place_id,
        "topic": topic,
        "title": row.get("title") or None,
        "language": language,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": _integer(row.required("capacity"), "capacity", 1, 1000),
    }


def _when(row: CsvRow, column: str, tz: tzinfo) -> datetime:
    text = row.required(column)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise RowProblem(f"{column}: {text!r} is not an ISO 8601 date and time") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


# ---------------------------------------------------------------- beneficiaries

BENEFICIARY_COLUMNS = (
    "booklet_number",
    "first_name",
    "phone",
    "vouchers",
    "expires_on",
    "verification_code",
)
MAX_VOUCHERS = 20


@dataclass(frozen=True)
class _BookletRow:
    number: str
    first_name: str
    phone: str
    expires_on: date
    verification_code: str
    language: str | None
    commune_insee: str | None
    value_cents: int
    codes: tuple[str, ...]


def import_beneficiaries(
    session: Session,
    path_or_lines: Source,
    on_progress: Progress | None = None,
    *,
    now: datetime | None = None,
    resolver: PlaceResolver | None = None,
) -> ImportReport:
    """Upsert beneficiaries, booklets and vouchers by `booklet_number` (SPEC section 5).

    A known phone on a new booklet number is the same person with a new booklet. Re-import
    updates names, phones, communes, codes and available vouchers; it never touches reserved,
    redeemed or expired vouchers, nor the language the person chose in a conversation. A voucher
    left out of the file is marked expired, never deleted: bookings may point at it.
    """
    try:
        rows = read_csv(path_or_lines, BENEFICIARY_COLUMNS)
    except RowProblem as problem:
        return _header_error(problem)
    job = _BeneficiaryImport(
        session, rows, resolver or default_resolver(), now or datetime.now(UTC)
    )
    return run_rows(session, rows, job.handle, on_progress, after_batch=job.flush)


def _booklet_row(row: CsvRow, resolver: PlaceResolver) -> _BookletRow:
    number = _limited(row.required("booklet_number"), "booklet_number", 32)
    try:
        phone = normalize_phone(row.required("phone"))
    except InvalidPhone as exc:
        raise RowProblem(f"phone: {exc}") from None
    count = _integer(row.required("vouchers"), "vouchers", 1, MAX_VOUCHERS)
    language = row.get("language").lower() or None
    if language not in (None, "fr", "en"):
        raise RowProblem(f"language: {language!r} is not fr or en")
    return _BookletRow(
        number=number,
        first_name=_limited(row.required("first_name"), "first_name", 100),
        phone=phone,
        expires_on=_day(row.required("expires_on"), "expires_on"),
        verification_code=_limited(row.required("verification_code"), "verification_code", 16),
        language=language,
        commune_insee=_commune_insee(row.get("commune"), resolver),
        value_cents=_cents(row.get("voucher_value_eur") or "10"),
        codes=_voucher_codes(row.get("voucher_codes"), number, count),
    )


def _day(text: str, column: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise RowProblem(f"{column}: {text!r} is not a YYYY-MM-DD date") from None


def _commune_insee(text: str, resolver: PlaceResolver) -> str | None:
    if not text:
        return None
    found = resolver.communes_for(text)
    if len(found) != 1:
        raise RowProblem(
            f"commune: {text!r} is not a commune of the metropolis"
            if not found
            else f"commune: {text!r} could be {', '.join(c.name for c in found)}"
        )
    return found[0].insee


def _cents(text: str) -> int:
    try:
        euros = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise RowProblem(f"voucher_value_eur: not an amount ({text!r})") from None
    if not Decimal(0) < euros <= Decimal(1000):
        raise RowProblem(f"voucher_value_eur: {text} is out of range")
    return int((euros * 100).to_integral_value(ROUND_HALF_UP))


def _voucher_codes(text: str, number: str, count: int) -> tuple[str, ...]:
    """The codes printed in the booklet, or `{booklet}-01`… when the file gives none."""
    if not text:
        return tuple(f"{number}-{i:02d}" for i in range(1, count + 1))
    codes = tuple(code.strip() for code in text.split("|") if code.strip())
    if len(codes) != count:
        raise RowProblem(f"voucher_codes: {len(codes)} codes for {count} vouchers")
    if len(set(codes)) != len(codes):
        raise RowProblem("voucher_codes: the same code twice")
    for code in codes:
        _limited(code, "voucher_codes", 40)
    return codes


class _BeneficiaryImport:
    """The state of one beneficiaries import: what the database already holds, loaded up front
    in a few queries, and the new booklets waiting for their holder's id."""

    def __init__(
        self, session: Session, rows: Sequence[CsvRow], resolver: PlaceResolver, now: datetime
    ) -> None:
        self.session, self.resolver, self.now = session, resolver, now
        numbers = [row.get("booklet_number") for row in rows]
        self.booklets = {b.number: b for b in fetch_in(session, Booklet, Booklet.number, numbers)}
        holders = fetch_in(
            session, Beneficiary, Beneficiary.id, [b.beneficiary_id for b in self.booklets.values()]
        )
        holders += fetch_in(session, Beneficiary, Beneficiary.phone, _phones(rows))
        self.by_id = {b.id: b for b in holders}
        self.by_phone = {b.phone: b for b in holders if b.phone}
        self.vouchers: dict[int | None, list[Voucher]] = {}
        for voucher in fetch_in(
            session, Voucher, Voucher.booklet_id, [b.id for b in self.booklets.values()]
        ):
            self.vouchers.setdefault(voucher.booklet_id, []).append(voucher)
        self.code_owner = _code_owners(session, rows)
        self.pending: list[tuple[Booklet, Beneficiary, _BookletRow]] = []
        self.seen: dict[str, int] = {}

    def handle(self, row: CsvRow) -> Outcome:
        data = _booklet_row(row, self.resolver)
        _mark_seen(self.seen, data.number, row)
        for code in data.codes:
            owner = self.code_owner.get(code, data.number)
            if owner != data.number:
                raise RowProblem(f"voucher_codes: {code!r} is already in booklet {owner}")
        booklet = self.booklets.get(data.number)
        holder = self.by_id[booklet.beneficiary_id] if booklet else self.by_phone.get(data.phone)
        self._check_holder(holder, data)
        self.code_owner.update(dict.fromkeys(data.codes, data.number))
        if booklet is None:
            self._create(holder, data)
            return "created"
        assert holder is not None
        changed = self._update_holder(holder, data)
        changed = apply_changes(booklet, {"verification_code": data.verification_code}) or changed
        return "updated" if self._sync_vouchers(booklet, data) or changed else "unchanged"

    def _check_holder(self, holder: Beneficiary | None, data: _BookletRow) -> None:
        if holder is not None and holder.erased_at is not None:
            raise RowProblem(f"booklet {data.number}: its holder's data was erased")
        other = self.by_phone.get(data.phone)
        if holder is not None and other is not None and other is not holder:
            raise RowProblem(
                f"phone: already the number of another beneficiary ({mask_phone(data.phone)})"
            )

    def _update_holder(self, holder: Beneficiary, data: _BookletRow) -> bool:
        values: dict[str, Any] = {"first_name": data.first_name, "phone": data.phone}
        if data.commune_insee:
            values["commune_insee"] = data.commune_insee
        if holder.phone != data.phone:
            self.by_phone.pop(holder.phone or "", None)
            self.by_phone[data.phone] = holder
        return apply_changes(holder, values)

    def _create(self, holder: Beneficiary | None, data: _BookletRow) -> None:
        if holder is None:
            holder = Beneficiary(
                first_name=data.first_name,
                phone=data.phone,
                language=data.language or "fr",
                commune_insee=data.commune_insee,
                created_at=self.now,
            )
            self.session.add(holder)
            self.by_phone[data.phone] = holder
        else:
            self._update_holder(holder, data)
        # The holder may have no id yet: flush() fills beneficiary_id in before inserting.
        booklet = Booklet(
            number=data.number,
            verification_code=data.verification_code,
            beneficiary_id=holder.id or 0,
            issued_at=self.now,
        )
        self.booklets[data.number] = booklet
        self.pending.append((booklet, holder, data))

    def _sync_vouchers(self, booklet: Booklet, data: _BookletRow) -> bool:
        current = {voucher.code: voucher for voucher in self.vouchers.get(booklet.id, [])}
        changed = False
        for code in data.codes:
            voucher = current.get(code)
            if voucher is None:
                self.session.add(self._voucher(booklet, code, data))
                changed = True
            elif voucher.status == VoucherStatus.AVAILABLE:
                terms = {"value_cents": data.value_cents, "expires_on": data.expires_on}
                changed = _touch(voucher, terms, self.now) or changed
        for code, voucher in current.items():
            if code not in data.codes and voucher.status == VoucherStatus.AVAILABLE:
                changed = (
                    _touch(voucher, {"status": VoucherStatus.EXPIRED.value}, self.now) or changed
                )
        return changed

    def _voucher(self, booklet: Booklet, code: str, data: _BookletRow) -> Voucher:
        voucher = Voucher(**self._voucher_row(booklet, code, data))
        self.vouchers.setdefault(booklet.id, []).append(voucher)
        return voucher

    def flush(self) -> None:
        """New holders get ids, then their booklets, then the vouchers: three inserts a batch."""
        self.session.flush()
        for booklet, holder, _ in self.pending:
            booklet.beneficiary_id = holder.id  # type: ignore[assignment]
            self.session.add(booklet)
        self.session.flush()
        # Plain rows, not objects: building ORM objects costs more than inserting them.
        vouchers = [
            self._voucher_row(booklet, code, data)
            for booklet, _, data in self.pending
            for code in data.codes
        ]
        if vouchers:
            self.session.execute(insert(Voucher), vouchers)
        self.by_id.update((holder.id, holder) for _, holder, _ in self.pending)
        self.pending.clear()

    def _voucher_row(self, booklet: Booklet, code: str, data: _BookletRow) -> dict[str, Any]:
        return {
            "code": code,
            "booklet_id": booklet.id,
            "value_cents": data.value_cents,
            "expires_on": data.expires_on,
            "status": VoucherStatus.AVAILABLE.value,
            "updated_at": self.now,
        }


def _touch(voucher: Voucher, values: dict[str, Any], now: datetime) -> bool:
    changed = apply_changes(voucher, values)
    if changed:
        voucher.updated_at = now
    return changed


def _phones(rows: Sequence[CsvRow]) -> list[str]:
    phones = []
    for row in rows:
        with suppress(InvalidPhone):  # reported when the row itself is handled
            phones.append(normalize_phone(row.get("phone")))
    return phones


def _code_owners(session: Session, rows: Sequence[CsvRow]) -> dict[str, str]:
    """Booklet number of each voucher code of the file that already exists."""
    codes = [code for row in rows for code in _codes_of(row)]
    vouchers = fetch_in(session, Voucher, Voucher.code, codes)
    booklets = fetch_in(session, Booklet, Booklet.id, [v.booklet_id for v in vouchers])
    numbers = {booklet.id: booklet.number for booklet in booklets}
    return {voucher.code: numbers[voucher.booklet_id] for voucher in vouchers}


def _codes_of(row: CsvRow) -> list[str]:
    """The voucher codes a row would use, or none when the row is too broken to tell."""
    number, count = row.get("booklet_number"), row.get("vouchers")
    try:
        return list(_voucher_codes(row.get("voucher_codes"), number, int(count)))
    except (ValueError, RowProblem):
        return []
