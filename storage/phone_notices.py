"""Tell the old phone when a person's number is changed by staff (or by an import).

A changed phone moves the account: reminders, balances and help answers go to the new number.
If someone changed it without the person knowing, the old phone is the only place that can
still warn them, so it gets one SMS through the outbox, with the metropolis help number. A
number that said STOP is not written to.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.directory import DEFAULT_HELP
from storage.opt_outs import address_opted_out
from storage.reminder_texts import NoticeWriter, enqueue_messages

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
    notices: NoticeWriter,
) -> bool:
    """Queue the notice to `old_phone` (written by `notices`); whether one was queued."""
    if not old_phone or opted_out or address_opted_out(session, address=old_phone):
        return False
    message = notices.to_address(
        channel="sms",
        address=old_phone,
        language=language,
        key=PHONE_CHANGED,
        params={"phone": DEFAULT_HELP.phone},
        beneficiary_id=beneficiary_id,
        dedupe_key=f"phone-changed:{beneficiary_id}:{now.isoformat()}",
        send_at=now,
    )
    return enqueue_messages(session, [message], now=now) == 1
