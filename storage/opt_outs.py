"""STOP kept per channel address, known beneficiary or not (see `AddressOptOut`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import String, cast, delete, literal, or_, select, update
from sqlmodel import Session

from storage.models import AddressOptOut, Beneficiary

__all__ = [
    "address_opted_out",
    "clear_address_opt_out",
    "honour_address_opt_outs",
    "opted_out_among",
    "record_address_opt_out",
    "set_opt_out",
]


def record_address_opt_out(session: Session, *, channel: str, address: str, now: datetime) -> None:
    """Remember that this address said STOP (idempotent: the first time is kept)."""
    if session.get(AddressOptOut, address) is None:
        session.add(AddressOptOut(address=address, channel=channel, opted_out_at=now))
        session.flush()


def clear_address_opt_out(session: Session, *, address: str) -> None:
    """START from this address."""
    session.execute(delete(AddressOptOut).where(AddressOptOut.address == address))


def address_opted_out(session: Session, *, address: str) -> bool:
    return session.get(AddressOptOut, address) is not None


def opted_out_among(session: Session, addresses: Iterable[str]) -> set[str]:
    """The addresses of `addresses` that said STOP."""
    wanted = sorted(set(addresses))
    if not wanted:
        return set()
    rows = session.scalars(select(AddressOptOut.address).where(AddressOptOut.address.in_(wanted)))
    return set(rows)


def set_opt_out(
    session: Session,
    *,
    channel: str,
    address: str,
    beneficiary_id: int | None,
    opted_out: bool,
    now: datetime,
) -> None:
    """STOP (`opted_out`) or START from this address: kept for the address, and on the
    beneficiary who holds it when there is one."""
    if opted_out:
        record_address_opt_out(session, channel=channel, address=address, now=now)
    else:
        clear_address_opt_out(session, address=address)
    if beneficiary_id is not None:
        session.execute(
            update(Beneficiary).where(Beneficiary.id == beneficiary_id).values(opted_out=opted_out)
        )


def honour_address_opt_outs(
    session: Session, *, phones: Iterable[str] = (), beneficiary_ids: Iterable[int] = ()
) -> int:
    """Mark opted out the beneficiaries (by phone or id) whose phone or Telegram chat said STOP
    before they were registered or given that address. Returns how many changed."""
    wanted_phones, wanted_ids = sorted(set(phones)), sorted(set(beneficiary_ids))
    if not wanted_phones and not wanted_ids:
        return 0
    stopped = select(AddressOptOut.address)
    chat_address = literal("tg:") + cast(Beneficiary.telegram_chat_id, String)
    result = session.execute(
        update(Beneficiary)
        .where(
            or_(
                Beneficiary.phone.in_(wanted_phones),  # type: ignore[union-attr]
                Beneficiary.id.in_(wanted_ids),  # type: ignore[union-attr]
            ),
            Beneficiary.opted_out.is_(False),  # type: ignore[attr-defined]
            or_(
                Beneficiary.phone.in_(stopped),  # type: ignore[union-attr]
                chat_address.in_(stopped),
            ),
        )
        .values(opted_out=True)
        .execution_options(synchronize_session="fetch")  # objects in the session see it
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
