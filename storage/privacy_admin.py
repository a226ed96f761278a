"""GDPR requests as staff actions: export a person's data, say what erasing them removes, erase
them. One handler each, used by the staff API (/staff/privacy) and the console, so both apply
the same rule (admins only: an advisor is refused and the refusal audited by the caller's unit
of work) and write the same audit entry. `passnum privacy` runs them as the server's admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.privacy import erase_beneficiary, export_beneficiary
from storage.staff import StaffIdentity, StaffRefused, actor_of, audit

__all__ = ["ErasureImpact", "erase_as_staff", "erasure_impact", "export_as_staff"]


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


def _admin(staff: StaffIdentity, what: str) -> None:
    if not staff.is_admin:
        raise StaffRefused("forbidden", f"only an admin may {what}")


def _export(session: Session, beneficiary_id: int) -> dict[str, Any]:
    try:
        return export_beneficiary(session, beneficiary_id=beneficiary_id)
    except LookupError:
        raise StaffRefused("not_found", "no such beneficiary") from None


def export_as_staff(
    session: Session, *, staff: StaffIdentity, beneficiary_id: int, now: datetime
) -> dict[str, Any]:
    """Everything held about the person, as JSON-ready data (right of access); audited."""
    _admin(staff, "export a person's data")
    data = _export(session, beneficiary_id)
    audit(
        session,
        actor=actor_of(staff),
        action="privacy_export",
        record=f"beneficiary:{beneficiary_id}",
        now=now,
    )
    return data


def erasure_impact(session: Session, *, staff: StaffIdentity, beneficiary_id: int) -> ErasureImpact:
    """What an erasure would remove, for the admin to read before confirming."""
    _admin(staff, "erase a person")
    data = _export(session, beneficiary_id)
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


def erase_as_staff(
    session: Session, *, staff: StaffIdentity, beneficiary_id: int, now: datetime
) -> None:
    """Erase the person's personal data (statistics keep their counts); audited."""
    _admin(staff, "erase a person")
    try:
        erase_beneficiary(session, beneficiary_id=beneficiary_id, actor=actor_of(staff), now=now)
    except LookupError:
        raise StaffRefused("not_found", "no such beneficiary") from None
