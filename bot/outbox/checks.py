"""Checks before sending, on a claimed batch (pure: the dispatcher reads the data they need).

Rows past `not_after` are cancelled, not sent late; opted-out or erased recipients get nothing,
nor does any address that said STOP (`AddressOptOut`: known person or not, whatever queued the
row: reminder, broadcast, help answer, slot notice); an SMS to a premium-rate, shared-cost or
not-allowed number (storage.phones.sms_refusal) is cancelled with the reason; reminders of a
person who turned reminders off are cancelled; a row whose body was purged is cancelled.
(The SMS daily cap is counted when a wave starts: storage.outbox.begin_wave.)
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from datetime import datetime

from storage.outbox import Claimed, RecipientFlags
from storage.phones import DEFAULT_SMS_REGIONS, sms_refusal
from storage.reminders import is_reminder

__all__ = ["screen"]


@functools.lru_cache(maxsize=50_000)
def _refusal(address: str, regions: tuple[str, ...]) -> str | None:
    """`sms_refusal`, remembered: phonenumbers' parse is the costliest check (~25 µs), and a
    person gets reminders, notices and broadcasts at the same number. Pure, so safe to keep."""
    return sms_refusal(address, regions)


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
    regions = tuple(sorted(sms_regions))
    for message in batch:
        who = flags.get(message.beneficiary_id or 0)
        refusal = _refusal(message.address, regions) if message.channel == "sms" else None
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
