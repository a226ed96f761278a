"""Reminders, storage side: what the scheduler, the dispatcher and staff tools import; the
code lives in smaller modules. The rules (when, which channel, what text) are pure functions
in flows.outbound, applied by bot.outbox.reminder_planning (the `PlanReminders` job).

- storage.reminder_slots: the slots to remind and the set-based queueing of J-1 / H-2.
- storage.reminder_followups: vouchers expiring soon, recent no-shows.
- storage.reminder_queries: which rows are reminders, who may get them, stale cancellation.
- storage.reminder_texts: the channel rule as SQL, queueing messages.
- storage.slot_notices: `notify_slot_changed` when staff move or cancel a slot.
- storage.voucher_expiry: `expire_vouchers`.
"""

from __future__ import annotations

from storage.reminder_queries import REMINDER_PREFIXES, cancel_stale, is_reminder
from storage.reminder_texts import (
    PERSON_COLUMNS,
    Person,
    Render,
    catalog_renderer,
    choose_address,
    enqueue_messages,
    reminder_row,
)
from storage.slot_notices import notify_slot_changed
from storage.voucher_expiry import expire_vouchers

__all__ = [
    "PERSON_COLUMNS",
    "REMINDER_PREFIXES",
    "Person",
    "Render",
    "catalog_renderer",
    "choose_address",
    "enqueue_messages",
    "is_reminder",
    "reminder_row",
    "cancel_stale",
    "expire_vouchers",
    "notify_slot_changed",
]
