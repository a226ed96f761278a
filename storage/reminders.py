"""Reminders: what the scheduler and staff tools import; the code lives in smaller modules.

- storage.reminder_plans: `Planner` (J-1, H-2; idempotent dedupe keys; the rules).
- storage.reminder_followups: voucher expiry notices and no-show offers.
- storage.reminder_queries: which rows are reminders, who may get them, stale cancellation.
- storage.reminder_texts: channel choice, catalog rendering, outbox rows.
- storage.slot_notices: `notify_slot_changed` when staff move or cancel a slot.
- storage.voucher_expiry: `expire_vouchers`.
"""

from __future__ import annotations

from storage.reminder_plans import Calendar, Planner, PlanReport
from storage.reminder_queries import REMINDER_PREFIXES, cancel_stale, is_reminder
from storage.reminder_texts import (
    PERSON_COLUMNS,
    Person,
    Render,
    catalog_renderer,
    choose_address,
    reminder_row,
)
from storage.slot_notices import notify_slot_changed
from storage.voucher_expiry import expire_vouchers

__all__ = [
    "PERSON_COLUMNS",
    "REMINDER_PREFIXES",
    "Calendar",
    "Person",
    "Render",
    "catalog_renderer",
    "choose_address",
    "is_reminder",
    "reminder_row",
    "PlanReport",
    "Planner",
    "cancel_stale",
    "expire_vouchers",
    "notify_slot_changed",
]
