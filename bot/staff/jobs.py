"""Scheduler jobs as commands: plan reminders, expire vouchers, purge old texts.

The scheduler (bot.outbox.scheduler) and `passnum tick` hand them to the staff service as
`SCHEDULER`, an admin identity of the system; each runs in one unit of work at the service's
clock. Planning (every minute) leaves no audit entry: the outbox rows it queues are its
record. Expiring vouchers and forgetting message texts are audited when they change
something (`jobs.expire_vouchers`, `jobs.purge_texts`, the count as detail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.outbox.reminder_planning import PlanReport, plan_reminders
from bot.staff.service import Command, Context, Handler
from storage import outbox
from storage.abuse import purge_inbound_counts
from storage.privacy import purge_inbound_texts
from storage.staff import StaffIdentity, StaffRefused
from storage.telegram_updates import purge_processed_updates
from storage.voucher_expiry import expire_vouchers

__all__ = [
    "HANDLERS",
    "SCHEDULER",
    "TELEGRAM_UPDATE_RETENTION",
    "ExpireVouchers",
    "PlanReminders",
    "PurgeOldTexts",
]

SCHEDULER = StaffIdentity(id=None, name="scheduler", role="admin", place_ids=())
"""Who runs the jobs: the system itself (the audit log says `scheduler`)."""

# Processed Telegram updates are kept only to recognise a redelivery (Telegram retries for
# hours, not days); their payload is already gone.
TELEGRAM_UPDATE_RETENTION = timedelta(days=7)
FLOOD_WINDOW_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class PlanReminders(Command[PlanReport]):
    """`{}` → how many J-1, H-2, expiry and no-show messages were queued, how many cancelled."""


@dataclass(frozen=True)
class ExpireVouchers(Command[int]):
    """`{}` → how many available vouchers past their last valid day (local date) expired."""


@dataclass(frozen=True)
class PurgeOldTexts(Command[int]):
    """`{}` → how many message texts older than `retention_days` were forgotten (sent,
    received, help); also old flood-limit windows and processed Telegram updates."""


def _admin(context: Context, what: str) -> None:
    if not context.staff.is_admin:
        raise StaffRefused("forbidden", f"only an admin may {what}")


def plan_reminders_job(context: Context, command: PlanReminders) -> PlanReport:
    _admin(context, "plan reminders")
    return plan_reminders(context.session, context.settings, now=context.now)


def expire_vouchers_job(context: Context, command: ExpireVouchers) -> int:
    _admin(context, "expire vouchers")
    today = context.now.astimezone(context.settings.tz).date()
    count = expire_vouchers(context.session, today=today, now=context.now)
    if count:
        context.audit("jobs.expire_vouchers", None, str(count))
    return count


def purge_old_texts_job(context: Context, command: PurgeOldTexts) -> int:
    _admin(context, "purge message texts")
    session, now = context.session, context.now
    before = now - timedelta(days=context.settings.retention_days)
    count = outbox.purge_bodies(session, before=before, now=now)
    count += purge_inbound_texts(session, before=before)
    purge_inbound_counts(session, before=now - FLOOD_WINDOW_RETENTION)
    purge_processed_updates(session, before=now - TELEGRAM_UPDATE_RETENTION)
    if count:
        context.audit("jobs.purge_texts", None, str(count))
    return count


HANDLERS: dict[type[Any], Handler] = {
    PlanReminders: plan_reminders_job,
    ExpireVouchers: expire_vouchers_job,
    PurgeOldTexts: purge_old_texts_job,
}
