"""Dispatch outcomes: what each provider answer does to its outbox row, in one transaction.

- sent → `sent`, with the provider id (delivery callbacks move it on).
- temporary (429, 5xx, connection refused) → back to `queued` after exponential backoff
  (`backoff_base` · 2^(attempt-1), at most `backoff_max`, never sooner than the provider's
  Retry-After); `failed` after `max_attempts`.
- permanent → `failed` with the provider's reason; when the provider says the person opted out
  (SMS STOP) the beneficiary is marked opted out; a Telegram block marks `telegram_unreachable`.
- unknown (no answer after the request left: it may well have been delivered) → recorded as
  `sent` with error "unconfirmed: …" and NOT resent. For our users a duplicate reminder is
  confusing ("do I have two sessions?") while the delivery callback, when it comes, confirms or
  fails the row; staff see the unconfirmed ones.
- not configured (no Twilio credentials) → stays `queued` (pushed back `not_configured_delay`),
  logged once per dispatcher: "not sent: no SMS provider configured".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.outbox.pacing import PacingConfig
from bot.outbox.providers import Outcome, SendResult
from storage import outbox
from storage.identity import set_beneficiary_flags
from storage.outbox import Claimed

__all__ = ["DispatchConfig", "DispatchReport", "record_outcomes"]

# Logged under the dispatcher's name, which operators and tests filter on.
log = logging.getLogger("bot.outbox.dispatcher")

LogOnce = Callable[[str, str], None]
"""(key, message): log `message` the first time `key` is seen by this dispatcher."""


@dataclass(frozen=True)
class DispatchConfig:
    """Tuning knobs; tests shorten `claim_for` and lift the pacing. `batch_size` and
    `concurrency` left at None are sized to each channel's pace (bot.outbox.pacing.batch_size_for,
    concurrency_for)."""

    batch_size: int | None = None
    claim_for: timedelta = timedelta(minutes=5)
    concurrency: int | None = None
    max_attempts: int = 8
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(hours=1)
    not_configured_delay: timedelta = timedelta(minutes=10)
    pacing: PacingConfig = field(default_factory=PacingConfig)


@dataclass
class DispatchReport:
    sent: int = 0
    unconfirmed: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0

    def add(self, other: DispatchReport) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __str__(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in vars(self).items())


def record_outcomes(
    session: Session,
    results: list[tuple[Claimed, SendResult]],
    skipped: dict[int, str],
    over_cap: list[Claimed],
    *,
    now: datetime,
    tomorrow: datetime,
    config: DispatchConfig,
    log_once: LogOnce,
    spend_day: date | None = None,
) -> DispatchReport:
    """Record a batch: cancelled (id → reason), deferred past the cap, and each send result.
    With `spend_day` (the day whose cap counter the wave was counted in), the segments of
    calls known not to have gone out (refused, temporary failure, no provider) are given back;
    an unknown outcome stays counted."""
    report = DispatchReport(cancelled=len(skipped), deferred=len(over_cap))
    for message_id, reason in skipped.items():
        outbox.mark_cancelled(session, message_id, reason=reason, now=now)
    for message in over_cap:
        outbox.mark_deferred(session, message.id, at=tomorrow, reason="daily SMS cap", now=now)
    sent = [(m.id, r.provider_id) for m, r in results if r.outcome == Outcome.SENT]
    outbox.mark_sent_many(session, sent, now=now)
    report.sent += len(sent)
    not_sent = 0
    for message, result in results:
        if result.outcome != Outcome.SENT:
            _record_one(session, message, result, now, report, config, log_once)
            if result.outcome != Outcome.UNKNOWN:
                not_sent += message.segments
    if spend_day is not None and results:
        outbox.refund_spend(
            session, channel=results[0][0].channel, day=spend_day, segments=not_sent
        )
    return report


def _record_one(
    session: Session,
    message: Claimed,
    result: SendResult,
    now: datetime,
    report: DispatchReport,
    config: DispatchConfig,
    log_once: LogOnce,
) -> None:
    if result.outcome == Outcome.UNKNOWN:
        log.warning("outbox row %s: no answer from provider, not resent", message.id)
        outbox.mark_sent(
            session,
            message.id,
            provider_id=result.provider_id,
            now=now,
            error=f"unconfirmed: {result.error}",
        )
        report.unconfirmed += 1
    elif result.outcome == Outcome.TEMPORARY and message.attempts < config.max_attempts:
        outbox.mark_retry(
            session,
            message.id,
            at=now + _backoff(message, result, config),
            error=result.error or "temporary failure",
            now=now,
        )
        report.retried += 1
    elif result.outcome == Outcome.NOT_CONFIGURED:
        log_once(
            f"nc:{message.channel}", f"not sent: no {message.channel.upper()} provider configured"
        )
        outbox.mark_deferred(
            session,
            message.id,
            at=now + config.not_configured_delay,
            reason="no provider configured",
            now=now,
        )
        report.deferred += 1
    else:
        _fail(session, message, result, now)
        report.failed += 1


def _fail(session: Session, message: Claimed, result: SendResult, now: datetime) -> None:
    error = result.error or result.outcome.value
    if result.outcome == Outcome.TEMPORARY:
        error = f"gave up after {message.attempts} attempts: {error}"
    outbox.mark_failed(session, message.id, error=error, now=now)
    if result.opted_out and message.beneficiary_id is not None:
        flag = "opted_out" if message.channel == "sms" else "telegram_unreachable"
        set_beneficiary_flags(session, beneficiary_id=message.beneficiary_id, **{flag: True})


def _backoff(message: Claimed, result: SendResult, config: DispatchConfig) -> timedelta:
    exponential = config.backoff_base * 2 ** max(message.attempts - 1, 0)
    delay = min(exponential, config.backoff_max)
    return max(delay, timedelta(seconds=result.retry_after or 0))
