"""Names for people in the audit log that are not their phone number or chat id.

A known beneficiary is `beneficiary:<id>` (erasure leaves nothing to find behind it). An address
nobody holds is a keyed hash: the same address gives the same name under one secret, so repeated
attempts from one chat can be followed, but the number cannot be read back, and a database dump
without the secret (`PASSNUM_PSEUDONYM_SECRET`) cannot be matched against a list of numbers."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["address_pseudonym", "beneficiary_actor"]


def beneficiary_actor(beneficiary_id: int) -> str:
    return f"beneficiary:{beneficiary_id}"


def address_pseudonym(*, channel: str, address: str, secret: str) -> str:
    """`telegram:h:9f2c…` (16 hex characters of HMAC-SHA-256 over the address)."""
    digest = hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()
    return f"{channel}:h:{digest[:16]}"
