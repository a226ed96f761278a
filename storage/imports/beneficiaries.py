"""Import of beneficiaries, booklets and vouchers by booklet number (SPEC section 5)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from storage.address_history import remember_address
from storage.geo import PlaceResolver, default_resolver
from storage.imports.booklet_rows import (
    BENEFICIARY_COLUMNS,
    BookletRow,
    booklet_row,
    code_owners,
    phones,
)
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
from storage.models import Beneficiary, Booklet, Voucher, VoucherStatus
from storage.opt_outs import honour_address_opt_outs
from storage.phone_notices import tell_old_phone
from storage.phones import DEFAULT_SMS_REGIONS, mask_phone
from storage.reminder_texts import NoticeWriter

__all__ = ["import_beneficiaries"]


def import_beneficiaries(
    session: Session,
    path_or_lines: Source,
    on_progress: Progress | None = None,
    *,
    now: datetime | None = None,
    resolver: PlaceResolver | None = None,
    sms_regions: Iterable[str] = DEFAULT_SMS_REGIONS,
    notices: NoticeWriter | None = None,
) -> ImportReport:
    """Upsert beneficiaries, booklets and vouchers by `booklet_number` (SPEC section 5).

    A known phone on a new booklet number is the same person with a new booklet when the first
    names match; with another first name the row is an error (it would merge two people).
    Re-import updates names, phones, communes, codes and available vouchers; it never touches
    reserved, redeemed or expired vouchers, nor the language the person chose in a
    conversation. A row whose first name AND phone both differ from its booklet's holder is
    another person's row, an error. A changed phone is told on the old one
    (storage.phone_notices), written by `notices`: the CLI import and registration pass one;
    without it (the demo's fresh data set) the old phone is not told. A voucher left out of
    the file is marked expired, never deleted: bookings may point at it.
    A phone we must not write to (storage.phones.sms_refusal against `sms_regions`) is a bad row.
    """
    try:
        rows = read_csv(path_or_lines, BENEFICIARY_COLUMNS)
    except RowProblem as problem:
        return header_error(problem)
    job = _BeneficiaryImport(
        session,
        rows,
        resolver or default_resolver(),
        now or datetime.now(UTC),
        sms_regions,
        notices,
    )
    report = run_rows(session, rows, job.handle, on_progress, after_batch=job.flush)
    honour_address_opt_outs(session, phones=phones(rows))  # STOP said before registration
    return report


class _BeneficiaryImport:
    """The state of one beneficiaries import: what the database already holds, loaded up front
    in a few queries, and the new booklets waiting for their holder's id."""

    def __init__(
        self,
        session: Session,
        rows: Sequence[CsvRow],
        resolver: PlaceResolver,
        now: datetime,
        sms_regions: Iterable[str],
        notices: NoticeWriter | None,
    ) -> None:
        self.session, self.resolver, self.now = session, resolver, now
        self.sms_regions = frozenset(sms_regions)
        self.notices = notices
        numbers = [row.get("booklet_number") for row in rows]
        self.booklets = {b.number: b for b in fetch_in(session, Booklet, Booklet.number, numbers)}
        holders = fetch_in(
            session, Beneficiary, Beneficiary.id, [b.beneficiary_id for b in self.booklets.values()]
        )
        holders += fetch_in(session, Beneficiary, Beneficiary.phone, phones(rows))
        self.by_id = {b.id: b for b in holders}
        self.by_phone = {b.phone: b for b in holders if b.phone}
        self.vouchers: dict[int | None, list[Voucher]] = {}
        for voucher in fetch_in(
            session, Voucher, Voucher.booklet_id, [b.id for b in self.booklets.values()]
        ):
            self.vouchers.setdefault(voucher.booklet_id, []).append(voucher)
        self.code_owner = code_owners(session, rows)
        self.pending: list[tuple[Booklet, Beneficiary, BookletRow]] = []
        self.seen: dict[str, int] = {}

    def handle(self, row: CsvRow) -> Outcome:
        data = booklet_row(row, self.resolver, self.sms_regions)
        mark_seen(self.seen, data.number, row)
        for code in data.codes:
            owner = self.code_owner.get(code, data.number)
            if owner != data.number:
                raise RowProblem(f"voucher_codes: {code!r} is already in booklet {owner}")
        booklet = self.booklets.get(data.number)
        holder = self.by_id[booklet.beneficiary_id] if booklet else self.by_phone.get(data.phone)
        self._check_holder(holder, data)
        _check_same_person(holder, data, new_booklet=booklet is None)
        self.code_owner.update(dict.fromkeys(data.codes, data.number))
        if booklet is None:
            self._create(holder, data)
            return "created"
        assert holder is not None
        changed = self._update_holder(holder, data)
        changed = apply_changes(booklet, {"verification_code": data.verification_code}) or changed
        return "updated" if self._sync_vouchers(booklet, data) or changed else "unchanged"

    def _check_holder(self, holder: Beneficiary | None, data: BookletRow) -> None:
        if holder is not None and holder.erased_at is not None:
            raise RowProblem(f"booklet {data.number}: its holder's data was erased")
        other = self.by_phone.get(data.phone)
        if holder is not None and other is not None and other is not holder:
            raise RowProblem(
                f"phone: already the number of another beneficiary ({mask_phone(data.phone)})"
            )

    def _update_holder(self, holder: Beneficiary, data: BookletRow) -> bool:
        values: dict[str, Any] = {"first_name": data.first_name, "phone": data.phone}
        if data.commune_insee:
            values["commune_insee"] = data.commune_insee
        if holder.phone != data.phone:
            if holder.id is not None:  # the old number stays reachable by erasure
                remember_address(
                    self.session, beneficiary_id=holder.id, address=holder.phone, now=self.now
                )
            self.by_phone.pop(holder.phone or "", None)
            self.by_phone[data.phone] = holder
            if holder.id is not None and self.notices is not None:
                tell_old_phone(
                    self.session,
                    beneficiary_id=holder.id,
                    language=holder.language,
                    old_phone=holder.phone,
                    opted_out=holder.opted_out,
                    now=self.now,
                    notices=self.notices,
                )
        return apply_changes(holder, values)

    def _create(self, holder: Beneficiary | None, data: BookletRow) -> None:
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

    def _sync_vouchers(self, booklet: Booklet, data: BookletRow) -> bool:
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

    def _voucher(self, booklet: Booklet, code: str, data: BookletRow) -> Voucher:
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

    def _voucher_row(self, booklet: Booklet, code: str, data: BookletRow) -> dict[str, Any]:
        return {
            "code": code,
            "booklet_id": booklet.id,
            "value_cents": data.value_cents,
            "expires_on": data.expires_on,
            "status": VoucherStatus.AVAILABLE.value,
            "updated_at": self.now,
        }


def _check_same_person(holder: Beneficiary | None, data: BookletRow, *, new_booklet: bool) -> None:
    """A row may correct its holder's name or phone, not replace the holder by someone else."""
    if holder is None or _same_name(holder.first_name, data.first_name):
        return
    if new_booklet:
        raise RowProblem(
            f"phone: already registered to another beneficiary ({mask_phone(data.phone)})"
        )
    if holder.phone != data.phone:
        raise RowProblem(
            f"booklet_number: {data.number} belongs to another person "
            "(first name and phone both differ)"
        )


def _same_name(known: str, given: str) -> bool:
    """The same first word, whatever the case and accents: 'Aïcha' is 'aicha B.', not 'Rosa'."""

    def first_word(name: str) -> str:
        letters = unicodedata.normalize("NFKD", name.casefold())
        words = "".join(c for c in letters if not unicodedata.combining(c)).split()
        return words[0] if words else ""

    return first_word(known) == first_word(given)


def _touch(voucher: Voucher, values: dict[str, Any], now: datetime) -> bool:
    changed = apply_changes(voucher, values)
    if changed:
        voucher.updated_at = now
    return changed
