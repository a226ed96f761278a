"""Checks before sending, on a claimed batch (pure: the dispatcher reads the data they need).

Rows past `not_after` are cancelled, not sent late; opted-out or erased recipients get nothing;
reminders of a person who turned reminders off are cancelled; a row whose body was purged is
cancelled. SMS stop at `settings.sms_daily_cap` segments per local day: the rest of the batch is
deferred to the next day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from storage.outbox import Claimed, RecipientFlags
from storage.reminders import is_reminder

__all__ = ["screen", "split_at_cap"]


def screen(
    batch: list[Claimed], flags: Mapping[int, RecipientFlags], now: datetime
) -> tuple[list[Claimed], dict[int, str]]:
    """Split the batch into what may go and what is cancelled (id → reason)."""
    ok, skipped = [], {}
    for message in batch:
        who = flags.get(message.beneficiary_id or 0)
        if message.not_after is not None and message.not_after < now:
            skipped[message.id] = "not_after passed"
        elif who is not None and who.opted_out:
            skipped[message.id] = "opted out"
        elif who is not None and not who.reminders_enabled and is_reminder(message.dedupe_key):
            skipped[message.id] = "reminders off"
        elif not message.body:
            skipped[message.id] = "no body (purged)"
        else:
            ok.append(message)
    return ok, skipped


def split_at_cap(batch: list[Claimed], left_today: int) -> tuple[list[Claimed], list[Claimed]]:
    """(allowed, over the cap): `left_today` was read after claiming, so the batch counts in it."""
    left = left_today + sum(m.segments for m in batch)  # ours count already
    allowed: list[Claimed] = []
    for message in batch:
        if message.segments > left:
            return allowed, batch[len(allowed) :]
        left -= message.segments
        allowed.append(message)
    return allowed, []
