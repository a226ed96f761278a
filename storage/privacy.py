"""GDPR: export everything held about a beneficiary, erase them (statistics survive), and
forget old message texts. See docs/privacy.md for what is stored, why and for how long."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, SQLModel

from storage.identity import TELEGRAM_PREFIX
from storage.models import (
    AuditEntry,
    Beneficiary,
    Booking,
    Booklet,
    Conversation,
    HelpRequest,
    InboundMessage,
    OutboundMessage,
    Voucher,
)

__all__ = ["ERASED_NAME", "erase_beneficiary", "export_beneficiary", "purge_inbound_texts"]

ERASED_NAME = "(effacé)"


def _addresses(person: Beneficiary) -> list[str]:
    found = [person.phone] if person.phone else []
    if person.telegram_chat_id is not None:
        found.append(f"{TELEGRAM_PREFIX}{person.telegram_chat_id}")
    return found


def _plain(row: SQLModel) -> dict[str, Any]:
    values = row.model_dump()
    return {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in values.items()}


def export_beneficiary(session: Session, *, beneficiary_id: int) -> dict[str, Any]:
    """Everything about one person, as JSON-ready data (right of access)."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None:
        raise LookupError(f"no beneficiary {beneficiary_id}")
    addresses = _addresses(person)
    booklets = session.scalars(
        select(Booklet).where(Booklet.beneficiary_id == beneficiary_id)
    ).all()
    booklet_ids = [b.id for b in booklets]

    def rows(model: Any, *where: Any) -> list[dict[str, Any]]:
        return [_plain(r) for r in session.scalars(select(model).where(*where)).all()]

    return {
        "beneficiary": _plain(person),
        "booklets": [_plain(b) for b in booklets],
        "vouchers": rows(Voucher, Voucher.booklet_id.in_(booklet_ids)),
        "bookings": rows(Booking, Booking.beneficiary_id == beneficiary_id),
        "conversations": rows(Conversation, Conversation.address.in_(addresses)),
        "messages_received": rows(InboundMessage, InboundMessage.address.in_(addresses)),
        "messages_sent": rows(OutboundMessage, OutboundMessage.beneficiary_id == beneficiary_id),
        "help_requests": rows(HelpRequest, HelpRequest.beneficiary_id == beneficiary_id),
        "audit": rows(AuditEntry, AuditEntry.record == f"beneficiary:{beneficiary_id}"),
    }


def erase_beneficiary(session: Session, *, beneficiary_id: int, actor: str, now: datetime) -> None:
    """Remove or anonymise personal data (right to erasure). Booklets, vouchers and bookings
    stay, without anything that identifies the person, so statistics still add up."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None:
        raise LookupError(f"no beneficiary {beneficiary_id}")
    addresses = _addresses(person)
    gone = f"erased:{beneficiary_id}"
    session.execute(delete(Conversation).where(Conversation.address.in_(addresses)))
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.address.in_(addresses))
        .values(address=gone, body=None, reply=None)
    )
    session.execute(
        update(OutboundMessage)
        .where(
            or_(
                OutboundMessage.beneficiary_id == beneficiary_id,
                OutboundMessage.address.in_(addresses),
            )
        )
        .values(address=gone, body=None)
    )
    session.execute(
        update(HelpRequest)
        .where(HelpRequest.beneficiary_id == beneficiary_id)
        .values(address=gone, text="", answer=None)
    )
    # The paper booklet may still circulate: nobody can link it again with the old code.
    session.execute(
        update(Booklet)
        .where(Booklet.beneficiary_id == beneficiary_id)
        .values(verification_code="!" + secrets.token_hex(6))
    )
    session.execute(
        update(Beneficiary)
        .where(Beneficiary.id == beneficiary_id)
        .values(
            first_name=ERASED_NAME,
            phone=None,
            telegram_chat_id=None,
            telegram_link_token=None,
            telegram_link_expires_at=None,
            opted_out=True,
            reminders_enabled=False,
            erased_at=now,
        )
    )
    session.add(
        AuditEntry(
            actor=actor, action="erase_beneficiary", record=f"beneficiary:{beneficiary_id}", at=now
        )
    )
    session.flush()


def purge_inbound_texts(session: Session, *, before: datetime) -> int:
    """Forget what people wrote (and what we answered) before `before` (data retention)."""
    inbound = session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.received_at < before,
            or_(InboundMessage.body.is_not(None), InboundMessage.reply.is_not(None)),
        )
        .values(body=None, reply=None)
    )
    help_texts = session.execute(
        update(HelpRequest)
        .where(
            HelpRequest.created_at < before,
            HelpRequest.answered_at.is_not(None),
            HelpRequest.text != "",
        )
        .values(text="", answer=None)
    )
    return int(inbound.rowcount or 0) + int(help_texts.rowcount or 0)  # type: ignore[attr-defined]
