"""The dispatcher: takes due rows from the outbox and sends them through the channel providers.

One pass (`dispatch_due`) claims batches per channel until nothing is due, sends each batch with
bounded concurrency at the channel's pace (bot.pacing), then records every outcome in one
transaction. Several dispatchers (processes) can run at once: claims are atomic
(storage.outbox.claim_batch), so no message is sent twice by them.

Outcomes:
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

Before sending: nothing at all in quiet hours (bot.quiet_hours); rows past `not_after` are
cancelled, not sent late; opted-out or erased recipients get nothing; reminders of a person who
turned reminders off are cancelled. SMS stop at `settings.sms_daily_cap` segments per local day:
the rest stays queued until the next day and an error is logged once per day.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from bot import quiet_hours
from bot.pacing import PacingConfig, pacer_for
from bot.providers import Outcome, Provider, SendResult
from config import Settings
from storage import outbox
from storage.db import unit_of_work
from storage.identity import set_beneficiary_flags
from storage.outbox import Claimed
from storage.reminders import is_reminder

__all__ = ["DispatchConfig", "DispatchReport", "Dispatcher"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchConfig:
    """Tuning knobs; tests shorten `claim_for` and lift the pacing."""

    batch_size: int = 100
    claim_for: timedelta = timedelta(minutes=5)
    concurrency: int = 20
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


class Dispatcher:
    """Sends the outbox; `providers` maps a channel ("sms", "telegram") to its Provider."""

    def __init__(self, engine: Engine, providers: dict[str, Provider], settings: Settings, *,
                 config: DispatchConfig | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.providers = providers
        self.settings = settings
        self.config = config or DispatchConfig()
        self.clock = clock or (lambda: datetime.now(UTC))
        self._pacers = {ch: pacer_for(ch, self.config.pacing) for ch in ("sms", "telegram")}
        self._logged: set[str] = set()

    async def dispatch_due(self, now: datetime | None = None) -> DispatchReport:
        """One pass: send everything due (at `now`, fixed, when given; else the clock)."""
        with unit_of_work(self.engine) as session:
            cancelled = outbox.cancel_expired(session, now=now or self.clock())
            session.commit()
        reports = await asyncio.gather(*(self._channel_pass(ch, now) for ch in self._pacers))
        total = DispatchReport(cancelled=cancelled)
        for report in reports:
            total.add(report)
        return total

    async def run_forever(self, *, interval: float = 2.0,
                          stop: asyncio.Event | None = None) -> None:
        """Dispatch passes until `stop` is set; an error is logged and the loop goes on."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.dispatch_due()
            except Exception:  # a database hiccup must not end sending for good
                log.exception("dispatch pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    async def _channel_pass(self, channel: str, fixed_now: datetime | None) -> DispatchReport:
        report = DispatchReport()
        while True:
            now = fixed_now or self.clock()
            limit = self._budget(channel, now)
            if limit <= 0:
                return report
            batch = outbox.claim_batch(self.engine, channel=channel, limit=limit, now=now,
                                       claim_for=self.config.claim_for)
            if not batch:
                return report
            batch_report, stop = await self._process(channel, batch, now, fixed_now)
            report.add(batch_report)
            if stop:
                return report

    def _budget(self, channel: str, now: datetime) -> int:
        """How many rows to claim now: 0 in quiet hours, without provider, or over the cap."""
        if quiet_hours.is_quiet(now, self.settings):
            return 0
        if channel not in self.providers:
            if self._has_due(channel, now):
                self._log_once(f"nc:{channel}",
                               f"not sent: no {channel.upper()} provider configured")
            return 0
        if channel != "sms":
            return self.config.batch_size
        left = self._sms_left_today(now)
        if left <= 0:
            self._log_cap(now)
        return min(self.config.batch_size, max(left, 0))

    def _log_cap(self, now: datetime) -> None:
        day = now.astimezone(self.settings.tz).date()
        self._log_once(f"cap:{day}", f"SMS daily cap of {self.settings.sms_daily_cap} "
                       f"segments reached on {day}: SMS wait until tomorrow", logging.ERROR)

    def _has_due(self, channel: str, now: datetime) -> bool:
        with unit_of_work(self.engine) as session:
            return outbox.has_due(session, channel=channel, now=now)

    def _sms_left_today(self, now: datetime) -> int:
        local = now.astimezone(self.settings.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        with unit_of_work(self.engine) as session:
            spent = outbox.segments_sent_since(session, channel="sms", since=midnight)
        return self.settings.sms_daily_cap - spent

    async def _process(self, channel: str, batch: list[Claimed], now: datetime,
                       fixed_now: datetime | None) -> tuple[DispatchReport, bool]:
        """Check, send and record one claimed batch; True when the channel must stop."""
        to_send, skipped = self._screen(batch, now)
        to_send, over_cap = self._within_cap(channel, to_send, now)
        if over_cap:
            self._log_cap(now)
        results = await self._send_all(channel, to_send)
        report = self._record(results, skipped, over_cap, fixed_now or self.clock())
        not_configured = any(r.outcome == Outcome.NOT_CONFIGURED for _, r in results)
        return report, not_configured or bool(over_cap)

    def _screen(self, batch: list[Claimed], now: datetime) -> tuple[list[Claimed], dict[int, str]]:
        """Split the batch into what may go and what is cancelled (id → reason)."""
        ids = [m.beneficiary_id for m in batch if m.beneficiary_id is not None]
        with unit_of_work(self.engine) as session:
            flags = outbox.recipient_flags(session, ids)
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

    def _within_cap(self, channel: str, batch: list[Claimed],
                    now: datetime) -> tuple[list[Claimed], list[Claimed]]:
        if channel != "sms":
            return batch, []
        left = self._sms_left_today(now) + sum(m.segments for m in batch)  # ours count already
        allowed: list[Claimed] = []
        for message in batch:
            if message.segments > left:
                return allowed, batch[len(allowed):]
            left -= message.segments
            allowed.append(message)
        return allowed, []

    async def _send_all(self, channel: str,
                        batch: list[Claimed]) -> list[tuple[Claimed, SendResult]]:
        provider, pacer = self.providers[channel], self._pacers[channel]
        gate = asyncio.Semaphore(self.config.concurrency)

        async def send(message: Claimed) -> tuple[Claimed, SendResult]:
            async with gate:
                await pacer.wait_turn(message.address, message.segments)
                return message, await self._send_one(provider, message)

        results = await asyncio.gather(*(send(m) for m in batch))
        pacer.forget_idle()
        return list(results)

    async def _send_one(self, provider: Provider, message: Claimed) -> SendResult:
        try:
            return await provider.send(message.address, message.body or "")
        except Exception as exc:  # a provider bug: we cannot know whether it went out
            log.exception("provider %s raised on outbox row %s", provider.channel, message.id)
            return SendResult(Outcome.UNKNOWN, error=f"provider error: {exc!r}")

    def _record(self, results: list[tuple[Claimed, SendResult]], skipped: dict[int, str],
                over_cap: list[Claimed], now: datetime) -> DispatchReport:
        report = DispatchReport(cancelled=len(skipped), deferred=len(over_cap))
        tomorrow = self._next_local_midnight(now)
        with unit_of_work(self.engine) as session:
            for message_id, reason in skipped.items():
                outbox.mark_cancelled(session, message_id, reason=reason, now=now)
            for message in over_cap:
                outbox.mark_deferred(session, message.id, at=tomorrow, reason="daily SMS cap",
                                     now=now)
            sent = [(m.id, r.provider_id) for m, r in results if r.outcome == Outcome.SENT]
            outbox.mark_sent_many(session, sent, now=now)
            report.sent += len(sent)
            for message, result in results:
                if result.outcome != Outcome.SENT:
                    self._record_one(session, message, result, now, report)
            session.commit()
        return report

    def _record_one(self, session, message: Claimed, result: SendResult,  # type: ignore[no-untyped-def]
                    now: datetime, report: DispatchReport) -> None:
        if result.outcome == Outcome.UNKNOWN:
            log.warning("outbox row %s: no answer from provider, not resent", message.id)
            outbox.mark_sent(session, message.id, provider_id=result.provider_id, now=now,
                             error=f"unconfirmed: {result.error}")
            report.unconfirmed += 1
        elif result.outcome == Outcome.TEMPORARY and message.attempts < self.config.max_attempts:
            outbox.mark_retry(session, message.id, at=now + self._backoff(message, result),
                              error=result.error or "temporary failure", now=now)
            report.retried += 1
        elif result.outcome == Outcome.NOT_CONFIGURED:
            self._log_once(f"nc:{message.channel}",
                           f"not sent: no {message.channel.upper()} provider configured")
            outbox.mark_deferred(session, message.id, at=now + self.config.not_configured_delay,
                                 reason="no provider configured", now=now)
            report.deferred += 1
        else:
            self._fail(session, message, result, now)
            report.failed += 1

    def _fail(self, session, message: Claimed, result: SendResult,  # type: ignore[no-untyped-def]
              now: datetime) -> None:
        error = result.error or result.outcome.value
        if result.outcome == Outcome.TEMPORARY:
            error = f"gave up after {message.attempts} attempts: {error}"
        outbox.mark_failed(session, message.id, error=error, now=now)
        if result.opted_out and message.beneficiary_id is not None:
            flag = "opted_out" if message.channel == "sms" else "telegram_unreachable"
            set_beneficiary_flags(session, beneficiary_id=message.beneficiary_id, **{flag: True})

    def _backoff(self, message: Claimed, result: SendResult) -> timedelta:
        exponential = self.config.backoff_base * 2 ** max(message.attempts - 1, 0)
        delay = min(exponential, self.config.backoff_max)
        return max(delay, timedelta(seconds=result.retry_after or 0))

    def _next_local_midnight(self, now: datetime) -> datetime:
        local = now.astimezone(self.settings.tz)
        next_day = local.date() + timedelta(days=1)
        return datetime.combine(next_day, datetime.min.time(), self.settings.tz).astimezone(UTC)

    def _log_once(self, key: str, message: str, level: int = logging.WARNING) -> None:
        if key not in self._logged:
            self._logged.add(key)
            log.log(level, message)
