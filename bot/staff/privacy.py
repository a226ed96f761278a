"""Privacy requests (GDPR) as staff commands: export a person's data, say what erasing them
removes, erase them. Admins only: an advisor is refused, and the service audits the refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bot.staff.service import Command, Context, Handler
from storage.privacy import erase_beneficiary, export_beneficiary
from storage.staff import StaffRefused

__all__ = ["ErasePerson", "ErasureImpact", "ExportPerson", "HANDLERS", "WhatErasureRemoves"]


@dataclass(frozen=True)
class ExportPerson(Command[dict[str, Any]]):
    """`{"beneficiary_id": 12}` → everything held about the person, JSON-ready (audited)."""

    beneficiary_id: int


@dataclass(frozen=True)
class WhatErasureRemoves(Command["ErasureImpact"]):
    """`{"beneficiary_id": 12}` → the counts shown before an admin confirms an erasure."""

    read_only: ClassVar[bool] = True
    beneficiary_id: int


@dataclass(frozen=True)
class ErasePerson(Command[None]):
    """`{"beneficiary_id": 12}`: erase the person's personal data; statistics keep counts."""

    beneficiary_id: int


@dataclass(frozen=True)
class ErasureImpact:
    """What erasing one person removes (counts shown on the confirmation page)."""

    first_name: str
    phone: str | None
    telegram: bool
    booklets: int
    addresses: int
    messages_received: int
    messages_sent: int
    conversations: int
    help_requests: int
    bookings: int
    already_erased: bool


def _admin(context: Context, what: str) -> None:
    if not context.staff.is_admin:
        raise StaffRefused("forbidden", f"only an admin may {what}")


def _export(context: Context, beneficiary_id: int) -> dict[str, Any]:
    try:
        return export_beneficiary(context.session, beneficiary_id=beneficiary_id)
    except LookupError:
        raise StaffRefused("not_found", "no such beneficiary") from None


def export_person(context: Context, command: ExportPerson) -> dict[str, Any]:
    _admin(context, "export a person's data")
    data = _export(context, command.beneficiary_id)
    context.audit("privacy_export", f"beneficiary:{command.beneficiary_id}")
    return data


def what_erasure_removes(context: Context, command: WhatErasureRemoves) -> ErasureImpact:
    _admin(context, "erase a person")
    data = _export(context, command.beneficiary_id)
    person = data["beneficiary"]
    return ErasureImpact(
        first_name=person["first_name"],
        phone=person["phone"],
        telegram=person["telegram_chat_id"] is not None,
        booklets=len(data["booklets"]),
        addresses=len(data["addresses"]),
        messages_received=len(data["messages_received"]),
        messages_sent=len(data["messages_sent"]),
        conversations=len(data["conversations"]),
        help_requests=len(data["help_requests"]),
        bookings=len(data["bookings"]),
        already_erased=person["erased_at"] is not None,
    )


def erase_person(context: Context, command: ErasePerson) -> None:
    _admin(context, "erase a person")
    try:
        erase_beneficiary(
            context.session,
            beneficiary_id=command.beneficiary_id,
            actor=context.actor,
            now=context.now,
        )
    except LookupError:
        raise StaffRefused("not_found", "no such beneficiary") from None


HANDLERS: dict[type[Any], Handler] = {
    ExportPerson: export_person,
    WhatErasureRemoves: what_erasure_removes,
    ErasePerson: erase_person,
}
