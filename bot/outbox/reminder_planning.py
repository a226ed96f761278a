"""Reminder planning, one pass: read with storage, apply flows.outbound's rules, queue.

Called by the `PlanReminders` job (bot.staff.jobs) every minute; idempotent (dedupe keys):
- queued reminders nobody should get any more are cancelled (storage.reminder_queries);
- J-1 and H-2: the slots with bookings still to remind, for both kinds in one pass over the
  bookings (storage.reminder_slots.slots_to_remind), their text and times once per (slot,
  channel, language) (flows.outbound.reminders.slot_texts), every booking's row in one
  INSERT … SELECT per kind (queue_slot_reminders);
- voucher expiry notices and no-show offers: one message each (flows.outbound.reminders).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache

from sqlmodel import Session

from bot.outbox.quiet_hours import SendingCalendar
from config import Settings
from config.catalogs import load_catalogs
from flows.outbound.reminders import (
    SLOT_REMINDERS,
    Wording,
    expiry_key,
    expiry_message,
    no_show_message,
    slot_texts,
)
from flows.outbound.schedule import EXPIRY_NOTICE_DAYS, HORIZON, Clock
from flows.outbound.texts import Catalogs, Render
from flows.outbound.texts import catalog_renderer as flows_renderer
from storage.directory import DEFAULT_HELP
from storage.reminder_followups import expiring_vouchers, missed_bookings
from storage.reminder_queries import cancel_stale, existing_keys
from storage.reminder_slots import queue_slot_reminders, slots_to_remind
from storage.reminder_texts import enqueue_messages

__all__ = ["PlanReport", "catalog_renderer", "plan_reminders", "shared_renderer"]

# Logged under the name operators already filter on (the module this code came from).
log = logging.getLogger("storage.reminders")

NO_SHOW_LOOKBACK = timedelta(days=3)


@dataclass
class PlanReport:
    j1: int = 0
    h2: int = 0
    expiry: int = 0
    noshow: int = 0
    cancelled: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in vars(self).items())


def catalog_renderer(tz: tzinfo, catalogs: Catalogs | None = None) -> Render:
    """Render with the message catalogs (flows.outbound.texts); a missing text is logged once."""
    books = load_catalogs() if catalogs is None else catalogs
    return flows_renderer(books, tz, on_missing=_log_missing)


@lru_cache(maxsize=8)
def shared_renderer(tz: tzinfo) -> Render:
    """One renderer per zone for the process: its cache of slot texts lasts between passes."""
    return catalog_renderer(tz)


def _log_missing(key: str) -> None:
    log.error("catalog text %r is missing: those messages are not queued", key)


def plan_reminders(
    session: Session, settings: Settings, *, now: datetime, render: Render | None = None
) -> PlanReport:
    """Queue every reminder due from `now` on (idempotent); the caller commits."""
    clock = Clock(now=now, tz=settings.tz, calendar=SendingCalendar(settings))
    wording = Wording(
        render=render or shared_renderer(settings.tz),
        two_way=settings.sms_two_way,
        voice=settings.voice_reminders,
        help_phone=DEFAULT_HELP.phone,
    )
    report = PlanReport(cancelled=cancel_stale(session, now=now))
    queued = _slot_reminders(session, clock, wording)
    report.j1, report.h2 = queued["j1"], queued["h2"]
    report.expiry = _expiry_notices(session, clock, wording)
    report.noshow = _no_show_offers(session, clock, wording)
    return report


def _slot_reminders(session: Session, clock: Clock, wording: Wording) -> dict[str, int]:
    until, voice = clock.now + HORIZON, wording.voice
    prefixes = [reminder.prefix for reminder in SLOT_REMINDERS.values()]
    slots = slots_to_remind(session, prefixes=prefixes, now=clock.now, until=until, voice=voice)
    queued = {}
    for kind, reminder in SLOT_REMINDERS.items():
        texts = slot_texts(reminder, slots[reminder.prefix], clock=clock, wording=wording)
        queued[kind] = queue_slot_reminders(
            session, prefix=reminder.prefix, texts=texts, now=clock.now, until=until, voice=voice
        )
    return queued


def _expiry_notices(session: Session, clock: Clock, wording: Wording) -> int:
    today = clock.today
    last = today + timedelta(days=EXPIRY_NOTICE_DAYS)
    keyed = {expiry_key(b, today): b for b in expiring_vouchers(session, first=today, last=last)}
    done = existing_keys(session, keyed)
    messages = [
        expiry_message(batch, clock=clock, wording=wording)
        for key, batch in keyed.items()
        if key not in done
    ]
    return enqueue_messages(session, messages, now=clock.now)


def _no_show_offers(session: Session, clock: Clock, wording: Wording) -> int:
    missed = missed_bookings(session, since=clock.now - NO_SHOW_LOOKBACK, until=clock.now)
    messages = [no_show_message(booking, clock=clock, wording=wording) for booking in missed]
    return enqueue_messages(session, messages, now=clock.now)
