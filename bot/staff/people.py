"""People as staff commands: search them, open a person's file, register someone, change their
phone, hand them a Telegram link, unlock a booklet locked after too many wrong codes.

Who may act on whom is the one rule of `storage.access`: an admin acts on everyone, an advisor
on the people booked at their places or registered by them; anyone else is answered like a
person who does not exist (`not_authorised`, a 404 for the API and the console). Unlocking a
booklet is for admins. Every change, and every opening of a file, is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from bot.staff.service import Command, Context, Handler
from flows.types import Balance
from storage import beneficiaries_admin
from storage.access import beneficiary_for_staff
from storage.booklet_guard import unlock_booklet as unlock_in_storage
from storage.console_queries import PersonHit, find_people
from storage.directory import voucher_balance
from storage.models import Beneficiary, Booklet
from storage.staff import StaffRefused

__all__ = [
    "HANDLERS",
    "LANGUAGES",
    "ChangePhone",
    "IssueTelegramLink",
    "PersonFile",
    "PersonRecord",
    "RegisterBeneficiary",
    "SearchPeople",
    "UnlockBooklet",
    "telegram_start_link",
]

LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class SearchPeople(Command[list[PersonHit]]):
    """`{"text": "aïcha"}` → the people whose first name, phone or booklet number matches,
    among those the staff member may act on (at most 20)."""

    read_only: ClassVar[bool] = True
    text: str


@dataclass(frozen=True)
class PersonRecord:
    """What staff see of one person: their record, voucher balance, booklet numbers, bookings
    (newest first) and the last 50 messages sent to them."""

    person: Beneficiary
    balance: Balance
    booklets: list[str]
    bookings: list[dict[str, Any]]
    messages: list[dict[str, Any]]


@dataclass(frozen=True)
class PersonFile(Command[PersonRecord]):
    """`{"beneficiary_id": 12}` → their record, voucher balance, booklets, bookings and
    latest messages. Opening a file is audited (`beneficiary.view`), so it is not a pure read."""

    beneficiary_id: int


@dataclass(frozen=True)
class RegisterBeneficiary(Command[Beneficiary]):
    """`{"first_name": "Rosa", "phone": "06 22 33 44 55", "booklet_number": "PN-9001",
    "vouchers": 6, "expires_on": "2027-06-30", "verification_code": "4321",
    "language": "fr", "commune": "Échirolles"}` → the new person. A phone or booklet number
    already registered is a conflict, never a merge into the known person."""

    first_name: str
    phone: str
    booklet_number: str
    vouchers: int
    expires_on: date
    verification_code: str
    language: str = "fr"
    commune: str | None = None


@dataclass(frozen=True)
class ChangePhone(Command[Beneficiary]):
    """`{"beneficiary_id": 12, "phone": "07 81 22 33 44"}` → the person with the number in
    E.164 form; the old number is told by SMS."""

    beneficiary_id: int
    phone: str


@dataclass(frozen=True)
class IssueTelegramLink(Command[str]):
    """`{"beneficiary_id": 12, "bot_username": "passnum_bot"}` → a `https://t.me/…?start=…`
    link that links the chat opening it to the person: one use, valid 7 days; a new link
    revokes the previous one."""

    beneficiary_id: int
    bot_username: str


@dataclass(frozen=True)
class UnlockBooklet(Command[Booklet]):
    """`{"number": "PN-0001"}` → the booklet, which accepts its code again (admins only)."""

    number: str


def telegram_start_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def _record(person_id: int | None) -> str:
    return f"beneficiary:{person_id}"


def search_people(context: Context, command: SearchPeople) -> list[PersonHit]:
    return find_people(context.session, staff=context.staff, text=command.text)


def person_file(context: Context, command: PersonFile) -> PersonRecord:
    person = beneficiary_for_staff(context.session, context.staff, command.beneficiary_id)
    found = beneficiaries_admin.beneficiary_file(context.session, person=person)
    balance = voucher_balance(
        context.session, beneficiary_id=command.beneficiary_id, today=context.now.date()
    )
    context.audit("beneficiary.view", _record(person.id))
    return PersonRecord(person, balance, found.booklets, found.bookings, found.messages)


def register_beneficiary(context: Context, command: RegisterBeneficiary) -> Beneficiary:
    if command.language not in LANGUAGES:
        raise StaffRefused("invalid", "language: fr or en")
    booklet_number = command.booklet_number.strip()
    person = beneficiaries_admin.register_beneficiary(
        context.session,
        registered_by=context.staff.id,
        first_name=command.first_name.strip(),
        phone=command.phone,
        booklet_number=booklet_number,
        vouchers=command.vouchers,
        expires_on=command.expires_on,
        verification_code=command.verification_code.strip(),
        language=command.language,
        commune=(command.commune or "").strip() or None,
        now=context.now,
        sms_regions=context.settings.sms_regions,
    )
    context.audit("beneficiary.register", _record(person.id), f"booklet {booklet_number}")
    return person


def change_phone(context: Context, command: ChangePhone) -> Beneficiary:
    beneficiary_for_staff(context.session, context.staff, command.beneficiary_id)
    person = beneficiaries_admin.change_phone(
        context.session,
        beneficiary_id=command.beneficiary_id,
        phone=command.phone,
        now=context.now,
        sms_regions=context.settings.sms_regions,
    )
    context.audit("beneficiary.change_phone", _record(command.beneficiary_id))
    return person


def issue_telegram_link(context: Context, command: IssueTelegramLink) -> str:
    person = beneficiary_for_staff(context.session, context.staff, command.beneficiary_id)
    token = beneficiaries_admin.issue_link_token(context.session, person=person, now=context.now)
    context.audit("beneficiary.telegram_link", _record(command.beneficiary_id))
    return telegram_start_link(command.bot_username, token)


def unlock_booklet(context: Context, command: UnlockBooklet) -> Booklet:
    if not context.staff.is_admin:
        raise StaffRefused("forbidden", "only an admin may unlock a booklet")
    booklet, was_locked = unlock_in_storage(context.session, number=command.number)
    context.audit(
        "booklet.unlock",
        f"booklet:{booklet.id}",
        "was locked" if was_locked else "was not locked",
    )
    return booklet


HANDLERS: dict[type[Any], Handler] = {
    SearchPeople: search_people,
    PersonFile: person_file,
    RegisterBeneficiary: register_beneficiary,
    ChangePhone: change_phone,
    IssueTelegramLink: issue_telegram_link,
    UnlockBooklet: unlock_booklet,
}
