"""GDPR: export everything held about a beneficiary, erase them (statistics survive), and
forget old message texts. See docs/privacy.md for what is stored, why and for how long."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import Session, SQLModel

from storage.address_history import addresses_ever_held, held_by_others_now
from storage.erasure import ERASED_NAME, erase_beneficiary
from storage.models import (
    AddressHistory,
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


def _plain(row: SQLModel) -> dict[str, Any]:
    values = row.model_dump()
    return {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in values.items()}


def export_beneficiary(session: Session, *, beneficiary_id: int) -> dict[str, Any]:
    """Everything about one person, as JSON-ready data (right of access)."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None:
        raise LookupError(f"no beneficiary {beneficiary_id}")
    # An old number now someone else's: their messages are not this person's to read.
    held = addresses_ever_held(session, beneficiary_id=beneficiary_id)
    others = held_by_others_now(session, beneficiary_id=beneficiary_id, addresses=held)
    addresses = [a for a in held if a not in others]
    booklets = session.scalars(
        select(Booklet).where(Booklet.beneficiary_id == beneficiary_id)
    ).all()
    booklet_ids = [b.id for b in booklets]

    def rows(model: Any, *where: Any) -> list[dict[str, Any]]:
        return [_plain(r) for r in session.scalars(select(model).where(*where)).all()]

    return {
        "beneficiary": _plain(person),
        "addresses": rows(AddressHistory, AddressHistory.beneficiary_id == beneficiary_id),
        "booklets": [_plain(b) for b in booklets],
        "vouchers": rows(Voucher, Voucher.booklet_id.in_(booklet_ids)),
        "bookings": rows(Booking, Booking.beneficiary_id == beneficiary_id),
        "conversations": rows(Conversation, Conversation.address.in_(addresses)),
        "messages_received": rows(InboundMessage, InboundMessage.address.in_(addresses)),
        "messages_sent": rows(
            OutboundMessage,
            or_(
                OutboundMessage.beneficiary_id == beneficiary_id,
                OutboundMessage.address.in_(addresses),
            ),
        ),
        "help_requests": rows(
            HelpRequest,
            or_(HelpRequest.beneficiary_id == beneficiary_id, HelpRequest.address.in_(addresses)),
        ),
        "audit": rows(AuditEntry, AuditEntry.record == f"beneficiary:{beneficiary_id}"),
    }


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
