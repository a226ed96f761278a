"""Tell the old phone when a person's number is changed by staff (or by an import).

A changed phone moves the account: reminders, balances and help answers go to the new number.
If someone changed it without the person knowing, the old phone is the only place that can
still warn them, so it gets one SMS through the outbox, with the metropolis help number. A
number that said STOP is not written to.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from storage.directory import DEFAULT_HELP
from storage.opt_outs import address_opted_out
from storage.outbox import enqueue
from storage.reminder_texts import catalog_renderer

__all__ = ["PHONE_CHANGED", "tell_old_phone"]

PHONE_CHANGED = "notice.phone_changed"


def tell_old_phone(
    session: Session,
    *,
    beneficiary_id: int,
    language: str,
    old_phone: str | None,
    opted_out: bool,
    now: datetime,
) -> int | None:
    """Queue the notice to `old_phone`; returns the outbox id, or None when nothing is sent."""
    if not old_phone or opted_out or address_opted_out(session, address=old_phone):
        return None
    rendered = catalog_renderer(UTC)("sms", language, PHONE_CHANGED, {"phone": DEFAULT_HELP.phone})
    if rendered is None:
        return None
    body, segments = rendered
    return enqueue(
        session,
        channel="sms",
        address=old_phone,
        body=body,
        segments=segments,
        beneficiary_id=beneficiary_id,
        dedupe_key=f"phone-changed:{beneficiary_id}:{now.isoformat()}",
        now=now,
    )
