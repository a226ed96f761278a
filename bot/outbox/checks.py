"""Checks before sending, on a claimed batch (pure: the dispatcher reads the data they need).

Rows past `not_after` are cancelled, not sent late; opted-out or erased recipients get nothing,
nor does any address that said STOP (`AddressOptOut`: known person or not, whatever queued the
row: reminder, broadcast, help answer, slot notice); an SMS to a premium-rate, shared-cost or
not-allowed number (storage.phones.sms_refusal) is cancelled with the reason; reminders of a
person who turned reminders off are cancelled; a row whose body was purged is cancelled.
SMS stop at `settings.sms_daily_cap` segments per local day: the rest of the batch is deferred
to the next day.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from storage.outbox import Claimed, RecipientFlags
from storage.phones import DEFAULT_SMS_REGIONS, sms_refusal
from storage.reminders import is_reminder

__all__ = ["screen", "split_at_cap"]


def screen(
    batch: list[Claimed],
    flags: Mapping[int, RecipientFlags],
    now: datetime,
    *,
    opted_out_addresses: Collection[str] = (),
    sms_regions: Collection[str] = DEFAULT_SMS_REGIONS,
) -> tuple[list[Claimed], dict[int, str]]:
    """Split the batch into what may go and what is cancelled (id → reason)."""
    ok, skipped = [], {}
    for message in batch:
        who = flags.get(message.beneficiary_id or 0)
        refusal = sms_refusal(message.address, sms_regions) if message.channel == "sms" else None
        if message.not_after is not None and message.not_after < now:
            skipped[message.id] = "not_after passed"
        elif (who is not None and who.opted_out) or message.address in opted_out_addresses:
            skipped[message.id] = "opted out"
        elif refusal:
            skipped[message.id] = f"destination refused: {refusal}"
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
