"""STOP kept per channel address, known beneficiary or not (see `AddressOptOut`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import Session

from storage.models import AddressOptOut

__all__ = [
    "address_opted_out",
    "clear_address_opt_out",
    "opted_out_among",
    "record_address_opt_out",
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
