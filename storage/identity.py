"""Who is behind a channel address, and the changes a beneficiary makes to their account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from storage.address_history import TELEGRAM_PREFIX, remember_address
from storage.directory import link_token_hash
from storage.models import AuditEntry, Beneficiary, HelpRequest, OutboundMessage
from storage.opt_outs import honour_address_opt_outs
from storage.pseudonyms import beneficiary_actor

__all__ = [
    "beneficiary_for_address",
    "leave_help_request",
    "link_address",
    "linked_address",
    "opt_out_by_provider_id",
    "set_beneficiary_flags",
    "spend_link_token",
    "telegram_chat_id",
]


def telegram_chat_id(address: str) -> int | None:
    """`tg:123` → 123; a phone address → None."""
    if address.startswith(TELEGRAM_PREFIX):
        return int(address[len(TELEGRAM_PREFIX) :])
    return None


def beneficiary_for_address(session: Session, *, channel: str, address: str) -> Beneficiary | None:
    chat_id = telegram_chat_id(address)
    if chat_id is not None:
        query = select(Beneficiary).where(Beneficiary.telegram_chat_id == chat_id)
    else:
        query = select(Beneficiary).where(Beneficiary.phone == address)
    return session.scalar(query.where(Beneficiary.erased_at.is_(None)))  # type: ignore[union-attr]


def linked_address(session: Session, *, beneficiary_id: int, channel: str) -> str | None:
    """The beneficiary's current address on a channel (phone, or `tg:<chat>`)."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None:
        return None
    if channel == "telegram":
        chat = person.telegram_chat_id
        return f"{TELEGRAM_PREFIX}{chat}" if chat is not None else None
    return person.phone


def link_address(
    session: Session, *, beneficiary_id: int, channel: str, address: str, now: datetime
) -> None:
    """Attach the address to the beneficiary, taking it from anyone who had it before; an
    address that said STOP makes them opted out (storage.opt_outs).

    The history keeps the address for the one who loses it and the one who gets it, and the
    address this one had on the channel before, so that erasure reaches all of them."""
    chat_id = telegram_chat_id(address)
    column = Beneficiary.telegram_chat_id if chat_id is not None else Beneficiary.phone
    held = chat_id if chat_id is not None else address
    for previous in session.scalars(select(Beneficiary.id).where(column == held)).all():
        remember_address(session, beneficiary_id=previous, address=address, now=now)
    replaced = session.scalar(select(column).where(Beneficiary.id == beneficiary_id))
    if replaced is not None and chat_id is not None:
        replaced = f"{TELEGRAM_PREFIX}{replaced}"
    remember_address(session, beneficiary_id=beneficiary_id, address=replaced, now=now)
    remember_address(session, beneficiary_id=beneficiary_id, address=address, now=now)
    session.execute(update(Beneficiary).where(column == held).values({column: None}))
    if chat_id is not None:
        values: dict[str, object] = {"telegram_chat_id": chat_id, "telegram_unreachable": False}
    else:
        values = {"phone": address}
    session.execute(
        update(Beneficiary)
        .where(Beneficiary.id == beneficiary_id)
        .values(last_channel=channel, **values)
    )
    session.add(
        AuditEntry(
            actor=beneficiary_actor(beneficiary_id),  # never the phone number or chat id
            action="link_address",
            record=f"beneficiary:{beneficiary_id}",
            at=now,
        )
    )
    session.flush()
    honour_address_opt_outs(session, beneficiary_ids=[beneficiary_id])


def spend_link_token(session: Session, *, beneficiary_id: int, token: str, now: datetime) -> bool:
    """Use a deep-link token once: True when it was this person's, unused and unexpired; it is
    revoked in the same statement, so of two chats opening the same link only one wins."""
    spent = session.execute(
        update(Beneficiary)
        .where(
            Beneficiary.id == beneficiary_id,
            Beneficiary.telegram_link_token == link_token_hash(token),
            Beneficiary.telegram_link_expires_at > now,  # type: ignore[operator]
        )
        .values(telegram_link_token=None, telegram_link_expires_at=None)
    )
    return bool(spent.rowcount)  # type: ignore[attr-defined]


def set_beneficiary_flags(session: Session, *, beneficiary_id: int, **flags: object) -> None:
    """Update reminders_enabled, opted_out, language, the channels or telegram_unreachable."""
    allowed = {
        "reminders_enabled",
        "opted_out",
        "language",
        "last_channel",
        "preferred_channel",
        "telegram_unreachable",
    }
    unknown = set(flags) - allowed
    if unknown:
        raise ValueError(f"not a beneficiary flag: {sorted(unknown)}")
    session.execute(update(Beneficiary).where(Beneficiary.id == beneficiary_id).values(**flags))


def leave_help_request(
    session: Session,
    *,
    beneficiary_id: int | None,
    channel: str,
    address: str,
    text: str,
    now: datetime,
) -> HelpRequest:
    request = HelpRequest(
        beneficiary_id=beneficiary_id,
        channel=channel,
        address=address,
        text=text[:2000],
        created_at=now,
    )
    session.add(request)
    session.flush()
    return request


def opt_out_by_provider_id(session: Session, *, provider_id: str) -> None:
    """The provider says the recipient of this message unsubscribed (Twilio 21610)."""
    recipient = select(OutboundMessage.beneficiary_id).where(
        OutboundMessage.provider_id == provider_id
    )
    session.execute(
        update(Beneficiary)
        .where(Beneficiary.id.in_(recipient.scalar_subquery()))  # type: ignore[union-attr]
        .values(opted_out=True)
    )
