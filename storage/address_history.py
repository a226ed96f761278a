"""Every phone number and Telegram chat a beneficiary has held.

A phone changed by staff, a booklet linked from a new phone, a Telegram chat linked by contact,
deep link or booklet code: the old address leaves the `beneficiary` row, but its messages and
conversation stay under that address. Erasure goes through this history to reach them all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import AddressHistory, Beneficiary

__all__ = ["addresses_ever_held", "held_by_others_now", "holders_of", "remember_address"]

TELEGRAM_PREFIX = "tg:"
_history = AddressHistory.__table__  # type: ignore[attr-defined]


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_history)


def remember_address(
    session: Session, *, beneficiary_id: int, address: str | None, now: datetime
) -> None:
    """Note that the person holds (or held) this address; once per person and address."""
    if not address:
        return
    channel = "telegram" if address.startswith(TELEGRAM_PREFIX) else "sms"
    session.execute(
        _insert(session)
        .values(beneficiary_id=beneficiary_id, channel=channel, address=address, since=now)
        .on_conflict_do_nothing(index_elements=[_history.c.beneficiary_id, _history.c.address])
    )


def addresses_ever_held(session: Session, *, beneficiary_id: int) -> list[str]:
    """Today's phone and chat, and every address in the person's history, sorted."""
    person = session.get(Beneficiary, beneficiary_id)
    found = set(
        session.scalars(
            select(AddressHistory.address).where(AddressHistory.beneficiary_id == beneficiary_id)
        )
    )
    if person is not None and person.phone:
        found.add(person.phone)
    if person is not None and person.telegram_chat_id is not None:
        found.add(f"{TELEGRAM_PREFIX}{person.telegram_chat_id}")
    return sorted(found)


def holders_of(session: Session, *, address: str) -> list[int]:
    """Everyone who ever held the address (for finding a person by an old phone number)."""
    return sorted(
        set(
            session.scalars(
                select(AddressHistory.beneficiary_id).where(AddressHistory.address == address)
            )
        )
    )


def held_by_others_now(session: Session, *, beneficiary_id: int, addresses: list[str]) -> set[str]:
    """Those of `addresses` that another (not erased) person holds today: their messages from
    now on, their STOP, are that person's."""
    phones = [a for a in addresses if not a.startswith(TELEGRAM_PREFIX)]
    chats = [int(a[len(TELEGRAM_PREFIX) :]) for a in addresses if a.startswith(TELEGRAM_PREFIX)]
    rows = session.execute(
        select(Beneficiary.phone, Beneficiary.telegram_chat_id).where(
            Beneficiary.id != beneficiary_id,
            Beneficiary.erased_at.is_(None),  # type: ignore[union-attr]
            or_(Beneficiary.phone.in_(phones), Beneficiary.telegram_chat_id.in_(chats)),  # type: ignore[union-attr]
        )
    ).all()
    held = {phone for phone, _ in rows if phone in phones}
    return held | {f"{TELEGRAM_PREFIX}{chat}" for _, chat in rows if chat in chats}
