"""Reconciling "sent, unconfirmed" rows: the dispatcher died during their provider call.

Such a row was committed as "attempt started" and its outcome never recorded: the message may
or may not have reached the provider. Once its claim has expired, a dispatcher asks the
provider, when the provider can tell (`SentLookup.find_sent`; Twilio: the Messages list of
that number, matched on the body and the time):

- found → `sent` with the provider's id (delivery callbacks then move it on);
- not there → back to the queue and sent again: it never reached the provider;
- the lookup failed → asked again at the next claim expiry, for a day; then as below;
- no lookup (Telegram's Bot API has none) → `sent` with error "unconfirmed: …" and NOT
  resent. This is the safe default, the same as a provider call that timed out
  (bot.outbox.outcomes): a duplicate reminder confuses our users more than a missing one,
  and staff see the unconfirmed rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Protocol, runtime_checkable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.outbox.outcomes import DispatchReport
from bot.outbox.providers import Provider
from storage import outbox
from storage.db import unit_of_work
from storage.outbox import Claimed

__all__ = ["GIVE_UP_AFTER", "SentLookup", "Verdict", "reconcile"]

log = logging.getLogger("bot.outbox.dispatcher")

GIVE_UP_AFTER = timedelta(days=1)
BATCH = 100


@runtime_checkable
class SentLookup(Protocol):
    """A provider that can say whether it accepted a message."""

    async def find_sent(self, address: str, text: str, *, since: datetime) -> str | None:
        """The provider's id of `text` sent to `address` at or after `since`, or None when it
        has no such message; raises when it cannot tell."""
        ...


@dataclass(frozen=True)
class Verdict:
    """What the provider said of one row. `{"found": "SM…"}`, `{"found": null}` (not there)
    or `{"unconfirmed": "no telegram lookup"}`."""

    found: str | None = None
    unconfirmed: str | None = None


async def reconcile(
    engine: Engine,
    provider: Provider,
    *,
    now: datetime,
    claim_for: timedelta,
    spend_tz: tzinfo | None = None,
) -> DispatchReport:
    """Settle this channel's unconfirmed rows whose claim expired (found, re-queued, or
    unconfirmed); no transaction is open during a lookup. With `spend_tz` (the zone of the
    SMS daily cap's days), a row not found at the provider gives its segments back to the
    counter of the day its attempt began."""
    report = DispatchReport()
    rows = outbox.claim_unconfirmed(
        engine, channel=provider.channel, limit=BATCH, now=now, claim_for=claim_for
    )
    for row in rows:
        verdict = await _ask(provider, row, now)
        if verdict is None:
            continue  # the new claim expires and a later pass asks again
        with unit_of_work(engine) as session:
            _record(session, row, verdict, now, report)
            if spend_tz is not None and row.channel == "sms" and _requeued(verdict):
                started = row.attempt_started_at or now
                day = started.astimezone(spend_tz).date()
                outbox.refund_spend(session, channel=row.channel, day=day, segments=row.segments)
            session.commit()
    return report


async def _ask(provider: Provider, row: Claimed, now: datetime) -> Verdict | None:
    """The provider's answer for this row, or None to ask again later."""
    started = row.attempt_started_at or now
    if not isinstance(provider, SentLookup):
        return Verdict(unconfirmed=f"no {row.channel} lookup")
    try:
        return Verdict(found=await provider.find_sent(row.address, row.body or "", since=started))
    except Exception as exc:  # any failure: we cannot tell yet
        log.warning("outbox row %s: provider lookup failed: %r", row.id, exc)
        if now - started < GIVE_UP_AFTER:
            return None
        return Verdict(unconfirmed="provider lookup failed for a day")


def _requeued(verdict: Verdict) -> bool:
    return not verdict.unconfirmed and not verdict.found


def _record(
    session: Session, row: Claimed, verdict: Verdict, now: datetime, report: DispatchReport
) -> None:
    if verdict.unconfirmed:
        log.warning(
            "outbox row %s: sent, unconfirmed (%s); not resent", row.id, verdict.unconfirmed
        )
        error = (
            f"unconfirmed: the dispatcher stopped during the provider call ({verdict.unconfirmed})"
        )
        report.unconfirmed += outbox.mark_sent(
            session, row.id, provider_id=None, now=now, error=error
        )
    elif verdict.found:
        log.info("outbox row %s: found at the provider after a crash", row.id)
        report.sent += outbox.mark_sent(session, row.id, provider_id=verdict.found, now=now)
    else:
        log.warning("outbox row %s: not at the provider after a crash, queued again", row.id)
        reason = "not found at the provider after a crash"
        report.retried += outbox.mark_retry(session, row.id, at=now, error=reason, now=now)
