"""One row of a beneficiaries file, checked: the booklet, its holder and its voucher codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlmodel import Session

from storage.geo import PlaceResolver
from storage.imports.cells import day, integer, limited
from storage.imports.csv_reading import CsvRow, RowProblem
from storage.imports.running import fetch_in
from storage.models import Booklet, Voucher
from storage.phones import DEFAULT_SMS_REGIONS, InvalidPhone, normalize_phone, sendable_phone

__all__ = [
    "BENEFICIARY_COLUMNS",
    "MAX_VOUCHERS",
    "BookletRow",
    "booklet_row",
    "code_owners",
    "phones",
]

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
class BookletRow:
    number: str
    first_name: str
    phone: str
    expires_on: date
    verification_code: str
    language: str | None
    commune_insee: str | None
    value_cents: int
    codes: tuple[str, ...]


def booklet_row(
    row: CsvRow, resolver: PlaceResolver, sms_regions: Iterable[str] = DEFAULT_SMS_REGIONS
) -> BookletRow:
    """The row's values, each checked; RowProblem on the first bad one."""
    number = limited(row.required("booklet_number"), "booklet_number", 32)
    try:
        phone = sendable_phone(row.required("phone"), sms_regions)
    except InvalidPhone as exc:
        raise RowProblem(f"phone: {exc}") from None
    count = integer(row.required("vouchers"), "vouchers", 1, MAX_VOUCHERS)
    language = row.get("language").lower() or None
    if language not in (None, "fr", "en"):
        raise RowProblem(f"language: {language!r} is not fr or en")
    return BookletRow(
        number=number,
        first_name=limited(row.required("first_name"), "first_name", 100),
        phone=phone,
        expires_on=day(row.required("expires_on"), "expires_on"),
        verification_code=limited(row.required("verification_code"), "verification_code", 16),
        language=language,
        commune_insee=_commune_insee(row.get("commune"), resolver),
        value_cents=_cents(row.get("voucher_value_eur") or "10"),
        codes=_voucher_codes(row.get("voucher_codes"), number, count),
    )


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
        limited(code, "voucher_codes", 40)
    return codes


def phones(rows: Sequence[CsvRow]) -> list[str]:
    """The valid phone numbers of the file, normalised."""
    found = []
    for row in rows:
        with suppress(InvalidPhone):  # reported when the row itself is handled
            found.append(normalize_phone(row.get("phone")))
    return found


def code_owners(session: Session, rows: Sequence[CsvRow]) -> dict[str, str]:
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
