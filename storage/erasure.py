"""Right to erasure: remove everything that names or reaches a beneficiary, through every
address they ever held (see `storage.address_history`), and keep the anonymous counts.

What stays, and why, is listed in docs/privacy.md; the test greps every column of every table
for the person's phones, chat id, name, booklet number and code after erasure."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import String, cast, delete, or_, select, update
from sqlmodel import Session

from storage.address_history import TELEGRAM_PREFIX, addresses_ever_held, held_by_others_now
from storage.models import (
    AddressHistory,
    AddressOptOut,
    AuditEntry,
    Beneficiary,
    Booklet,
    Conversation,
    HelpRequest,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
    TelegramUpdate,
    Voucher,
)

__all__ = ["ERASED_NAME", "erase_beneficiary"]

ERASED_NAME = "(effacé)"
_PENDING = (OutboundStatus.QUEUED.value, OutboundStatus.SENDING.value)


def erase_beneficiary(session: Session, *, beneficiary_id: int, actor: str, now: datetime) -> None:
    """Remove or anonymise personal data (right to erasure). Booklets, vouchers and bookings
    stay, without anything that identifies the person, so statistics still add up."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None:
        raise LookupError(f"no beneficiary {beneficiary_id}")
    addresses = addresses_ever_held(session, beneficiary_id=beneficiary_id)
    numbers = list(
        session.scalars(select(Booklet.number).where(Booklet.beneficiary_id == beneficiary_id))
    )
    gone = f"erased:{beneficiary_id}"
    _forget_messages(session, beneficiary_id, addresses, gone)
    _forget_opt_outs(session, beneficiary_id, addresses)
    _forget_audit_mentions(session, addresses, numbers, gone)
    _anonymise_booklets(session, beneficiary_id)
    session.execute(delete(AddressHistory).where(AddressHistory.beneficiary_id == beneficiary_id))
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
    record = f"beneficiary:{beneficiary_id}"
    session.add(AuditEntry(actor=actor, action="erase_beneficiary", record=record, at=now))
    session.flush()
    session.expire(person)


def _chat_ids(addresses: Iterable[str]) -> list[str]:
    return [a[len(TELEGRAM_PREFIX) :] for a in addresses if a.startswith(TELEGRAM_PREFIX)]


def _forget_messages(
    session: Session, beneficiary_id: int, addresses: list[str], gone: str
) -> None:
    """Conversations deleted; texts, addresses and provider ids (`tg:<chat>:<n>`, SIDs that a
    provider console resolves to the number) removed; nothing still queued goes out."""
    session.execute(delete(Conversation).where(Conversation.address.in_(addresses)))
    tails = [a[len(TELEGRAM_PREFIX) :] for a in addresses if a.startswith(TELEGRAM_PREFIX)]
    chats = [int(tail) for tail in tails if tail.lstrip("-").isdigit()]
    if chats:  # stored Telegram updates of their chats (storage.telegram_updates), done or not
        session.execute(delete(TelegramUpdate).where(TelegramUpdate.chat_id.in_(chats)))
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.address.in_(addresses))
        .values(address=gone, body=None, reply=None)
    )
    theirs = or_(
        OutboundMessage.beneficiary_id == beneficiary_id, OutboundMessage.address.in_(addresses)
    )
    session.execute(
        update(OutboundMessage)
        .where(theirs, OutboundMessage.status.in_(_PENDING))
        .values(status=OutboundStatus.CANCELLED.value, claimed_until=None)
    )
    session.execute(
        update(OutboundMessage)
        .where(theirs)
        .values(address=gone, body=None, provider_id=None, error=None)
    )
    session.execute(
        update(HelpRequest)
        .where(
            or_(HelpRequest.beneficiary_id == beneficiary_id, HelpRequest.address.in_(addresses))
        )
        .values(address=gone, text="", answer=None)
    )


def _forget_opt_outs(session: Session, beneficiary_id: int, addresses: list[str]) -> None:
    """A STOP kept for an address leaves with the person, unless someone else holds it now
    (then it is theirs). The erased person is opted out and no longer reachable anyway."""
    kept = held_by_others_now(session, beneficiary_id=beneficiary_id, addresses=addresses)
    mine = [a for a in addresses if a not in kept]
    session.execute(delete(AddressOptOut).where(AddressOptOut.address.in_(mine)))


def _forget_audit_mentions(
    session: Session, addresses: list[str], numbers: list[str], gone: str
) -> None:
    """The audit log names people by record id. Entries written before that (actor
    `sms:+336…`, `telegram:tg:…`, a refused chat `telegram:<id>`) and free-text details that
    quote an address or a booklet number ("booklet 2024-0001") lose that text."""
    legacy = [f"{channel}:{a}" for a in addresses for channel in ("sms", "telegram")]
    legacy += [f"telegram:{chat}" for chat in _chat_ids(addresses)]
    session.execute(update(AuditEntry).where(AuditEntry.actor.in_(legacy)).values(actor=gone))  # type: ignore[attr-defined]
    session.execute(update(AuditEntry).where(AuditEntry.record.in_(legacy)).values(record=gone))  # type: ignore[union-attr]
    for quoted in [*addresses, *numbers]:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.detail.contains(quoted, autoescape=True))  # type: ignore[union-attr]
            .values(detail=None)
        )


def _anonymise_booklets(session: Session, beneficiary_id: int) -> None:
    """The paper booklet may still circulate: its number and voucher codes (which repeat the
    number) become `erased-<id>`, its code a random value nobody can type."""
    booklet_ids = select(Booklet.id).where(Booklet.beneficiary_id == beneficiary_id)
    session.execute(
        update(Voucher)
        .where(Voucher.booklet_id.in_(booklet_ids.scalar_subquery()))
        .values(code="erased-" + cast(Voucher.id, String))
    )
    for booklet_id in session.scalars(booklet_ids).all():
        session.execute(
            update(Booklet)
            .where(Booklet.id == booklet_id)
            .values(number=f"erased-{booklet_id}", verification_code="!" + secrets.token_hex(6))
        )
