"""Voucher expiry: available vouchers past their last valid day become expired."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session

from storage.models import Voucher, VoucherStatus

__all__ = ["expire_vouchers"]


def expire_vouchers(session: Session, *, today: date, now: datetime) -> int:
    """Available vouchers past their last valid day become expired."""
    result = session.execute(
        update(Voucher)
        .where(Voucher.status == VoucherStatus.AVAILABLE.value, Voucher.expires_on < today)  # type: ignore[operator]
        .values(status=VoucherStatus.EXPIRED.value, updated_at=now)
    )
    return result.rowcount  # type: ignore[attr-defined, no-any-return]
