"""Staff work on beneficiaries: register one, change a phone, issue a Telegram deep link,
see their file (bookings, messages), answer their help requests.

Who may act on whom is `storage.access`, checked by the staff handlers (`bot.staff.people`),
which also write the audit entries. Registration never merges into an existing person: a phone
or booklet number already known is a conflict. A phone change tells the old phone. Deep links
are single-use and expire after `LINK_VALID`.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from flows.gsm7 import sms_segments, to_gsm7
from storage.access import beneficiary_for_staff
from storage.address_history import remember_address
from storage.directory import booklet_numbered, link_token_hash
from storage.imports import import_beneficiaries
from storage.models import (
    Beneficiary,
    Booking,
    Booklet,
    HelpRequest,
    OutboundMessage,
    Place,
    Slot,
)
from storage.opt_outs import honour_address_opt_outs
from storage.outbox import enqueue
from storage.phone_notices import tell_old_phone
from storage.phones import DEFAULT_SMS_REGIONS, InvalidPhone, normalize_phone, sendable_phone
from storage.reminders import PERSON_COLUMNS, Person, choose_address
from storage.staff import StaffIdentity, StaffRefused, actor_of, audit

__all__ = [
    "LINK_VALID",
    "BeneficiaryFile",
    "answer_help_request",
    "beneficiary_file",
    "change_phone",
    "issue_link_token",
    "register_beneficiary",
]


LINK_VALID = timedelta(days=7)


@dataclass(frozen=True)
class BeneficiaryFile:
    """What staff see of one person: their record, bookings and latest messages."""

    person: Beneficiary
    booklets: list[str]
    bookings: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def register_beneficiary(
    session: Session,
    *,
    registered_by: int | None,
    first_name: str,
    phone: str,
    booklet_number: str,
    vouchers: int,
    expires_on: date,
    verification_code: str,
    now: datetime,
    language: str = "fr",
    commune: str | None = None,
    sms_regions: Iterable[str] = DEFAULT_SMS_REGIONS,
) -> Beneficiary:
    """One new person with a new booklet and its vouchers, validated like a CSV import row,
    registered by the staff member `registered_by` (None: an admin without an account). A phone
    or booklet number that already exists is a conflict, never a merge."""
    _refuse_known(session, phone=phone, booklet_number=booklet_number)
    row = {
        "booklet_number": booklet_number,
        "first_name": first_name,
        "phone": phone,
        "vouchers": vouchers,
        "expires_on": expires_on.isoformat(),
        "verification_code": verification_code,
        "language": language,
        "commune": commune or "",
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), delimiter=";")
    writer.writeheader()
    writer.writerow(row)
    report = import_beneficiaries(
        session, buffer.getvalue().splitlines(), now=now, sms_regions=sms_regions
    )
    if report.errors:
        raise StaffRefused("invalid", report.errors[0].reason)
    person = session.scalar(
        select(Beneficiary)
        .join(Booklet, Booklet.beneficiary_id == Beneficiary.id)
        .where(Booklet.number == booklet_number.strip())
    )
    assert person is not None
    person.registered_by = registered_by
    session.flush()
    return person


def _refuse_known(session: Session, *, phone: str, booklet_number: str) -> None:
    """409 naming the field when the booklet number (however spaced) or the phone is taken."""
    known = booklet_numbered(session, booklet_number) if booklet_number.strip() else None
    if known is not None:
        raise StaffRefused("conflict", f"booklet number already exists: {known.number}")
    try:
        number = normalize_phone(phone)
    except InvalidPhone as problem:
        raise StaffRefused("invalid", f"phone: {problem}") from None
    if session.scalar(select(Beneficiary.id).where(Beneficiary.phone == number)) is not None:
        raise StaffRefused("conflict", "phone already registered")


def change_phone(
    session: Session,
    *,
    beneficiary_id: int,
    phone: str,
    now: datetime,
    sms_regions: Iterable[str] = DEFAULT_SMS_REGIONS,
) -> Beneficiary:
    """A new phone number (any French or E.164 form), unique among beneficiaries; the old
    number is told by SMS (storage.phone_notices)."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None:
        raise StaffRefused("not_found", f"no beneficiary {beneficiary_id}")
    try:
        number = sendable_phone(phone, sms_regions)
    except InvalidPhone as problem:
        raise StaffRefused("invalid", f"phone: {problem}") from None
    other = session.scalar(
        select(Beneficiary.id).where(Beneficiary.phone == number, Beneficiary.id != beneficiary_id)
    )
    if other is not None:
        raise StaffRefused("conflict", "phone: already the number of another beneficiary")
    remember_address(session, beneficiary_id=beneficiary_id, address=person.phone, now=now)
    old_phone, person.phone = person.phone, number
    session.flush()
    honour_address_opt_outs(session, beneficiary_ids=[beneficiary_id])
    if old_phone != number:
        tell_old_phone(
            session,
            beneficiary_id=beneficiary_id,
            language=person.language,
            old_phone=old_phone,
            opted_out=person.opted_out,
            now=now,
        )
    return person


def issue_link_token(session: Session, *, person: Beneficiary, now: datetime) -> str:
    """The `/start` token of a Telegram deep link that links the chat opening it to this
    person: one use, for `LINK_VALID`; issuing a new one revokes the previous one. Only its
    hash is kept."""
    token = secrets.token_hex(16)  # hex: never mistaken for `staff-…`
    person.telegram_link_token = link_token_hash(token)
    person.telegram_link_expires_at = now + LINK_VALID
    session.flush()
    return token


def beneficiary_file(session: Session, *, person: Beneficiary) -> BeneficiaryFile:
    """Their record, booklets, bookings and the last 50 messages sent to them."""
    beneficiary_id = person.id or 0
    booklets = list(
        session.scalars(select(Booklet.number).where(Booklet.beneficiary_id == beneficiary_id))
    )
    bookings = session.execute(
        select(
            Booking.id, Booking.slot_id, Slot.starts_at, Place.name.label("place"), Booking.status
        )
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Place, Place.id == Slot.place_id)
        .where(Booking.beneficiary_id == beneficiary_id)
        .order_by(Slot.starts_at.desc())
    ).all()
    messages = session.execute(
        select(
            OutboundMessage.id,
            OutboundMessage.channel,
            OutboundMessage.body,
            OutboundMessage.status,
            OutboundMessage.created_at,
        )
        .where(OutboundMessage.beneficiary_id == beneficiary_id)
        .order_by(OutboundMessage.id.desc())
        .limit(50)
    ).all()
    return BeneficiaryFile(
        person,
        booklets,
        [dict(row._mapping) for row in bookings],
        [dict(row._mapping) for row in messages],
    )


def answer_help_request(
    session: Session, *, staff: StaffIdentity, request_id: int, text: str, now: datetime
) -> HelpRequest:
    """Send the answer on the person's channel through the outbox; the request is answered."""
    request = session.get(HelpRequest, request_id)
    if request is None:
        raise StaffRefused("not_found", f"no help request {request_id}")
    if request.answered_at is not None:
        raise StaffRefused("conflict", f"help request {request_id} was already answered")
    if not text.strip():
        raise StaffRefused("invalid", "the answer is empty")
    channel, address = _reply_address(session, staff, request)
    body = to_gsm7(text.strip()) if channel == "sms" else text.strip()
    enqueue(
        session,
        channel=channel,
        address=address,
        body=body,
        now=now,
        beneficiary_id=request.beneficiary_id,
        segments=sms_segments(body) or 1,
        dedupe_key=f"help-answer:{request_id}",
    )
    request.answer, request.answered_by, request.answered_at = text.strip(), staff.id, now
    session.flush()
    audit(
        session,
        actor=actor_of(staff),
        action="help.answer",
        record=f"help:{request_id}",
        now=now,
        detail=channel,
    )
    return request


def _reply_address(session: Session, staff: StaffIdentity, request: HelpRequest) -> tuple[str, str]:
    if request.beneficiary_id is None:
        if not staff.is_admin:
            raise StaffRefused("forbidden", "only an admin may answer an unknown sender")
        return request.channel, request.address
    beneficiary_for_staff(session, staff, request.beneficiary_id)
    row = session.execute(
        select(*PERSON_COLUMNS, Beneficiary.opted_out).where(
            Beneficiary.id == request.beneficiary_id
        )
    ).one()
    target = choose_address(Person(*row[:-1]))
    if row[-1] or target is None:
        raise StaffRefused("conflict", "this person cannot be written to (opted out or no address)")
    return target
