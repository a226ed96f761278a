"""The dispatcher: takes due rows from the outbox and sends them through the channel providers.

One pass (`dispatch_due`) first reconciles rows left "sent, unconfirmed" by a dispatcher that
died during a provider call (bot.outbox.reconcile), then claims batches per channel until
nothing is due and sends each batch with bounded concurrency at the channel's pace
(bot.outbox.pacing). Each message is committed as "attempt started" just before its provider
call and its outcome is committed as soon as the call returns, so a SIGKILL can leave at most the
messages whose call was under way unrecorded, and those are reconciled, not resent blindly.
Several dispatchers (processes) can run at once: claims are atomic
(storage.outbox.claim_batch), so no message is sent twice by them. No transaction is open
during a provider call.

Outcomes (sent, temporary, permanent, unknown, not configured) and what each does to its row:
bot.outbox.outcomes.

Before sending: nothing at all in quiet hours (bot.outbox.quiet_hours); the checks on each
claimed batch (not_after, opted out, refused destination, reminders off) are in
bot.outbox.checks. The SMS daily cap is a counter row per local day, taken from as each wave starts
(storage.outbox.begin_wave), so several dispatcher processes share it exactly; when it is
reached the rest of the batch waits for the next day and an error is logged once per day.

Throughput (BENCHMARKS.md): a claim takes up to `batch_size` rows (sized to the channel's pace,
1,000 unpaced) in index order, and a wave's calls run in `concurrency` tasks over the
provider's keep-alive connections; the claim, the start of a wave and its outcomes are each
one statement on the driver's cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine

from bot.outbox import quiet_hours
from bot.outbox.checks import screen
from bot.outbox.outcomes import DispatchConfig, DispatchReport, record_outcomes
from bot.outbox.pacing import batch_size_for, concurrency_for, pacer_for, wave_size
from bot.outbox.providers import Outcome, Provider, SendResult
from bot.outbox.reconcile import reconcile
from config import Settings
from storage import outbox
from storage.db import read_only, unit_of_work
from storage.opt_outs import opted_out_among
from storage.outbox import Claimed, DailyCap

__all__ = ["DispatchConfig", "DispatchReport", "Dispatcher"]

log = logging.getLogger(__name__)


class Dispatcher:
    """Sends the outbox; `providers` maps a channel ("sms", "telegram") to its Provider."""

    def __init__(
        self,
        engine: Engine,
        providers: dict[str, Provider],
        settings: Settings,
        *,
        config: DispatchConfig | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.providers = providers
        self.settings = settings
        self.config = config or DispatchConfig()
        self.clock = clock or (lambda: datetime.now(UTC))
        channels = ("sms", "telegram", "voice")  # voice: reminder calls, paced like SMS
        pacing = self.config.pacing
        self._pacers = {ch: pacer_for(ch, pacing) for ch in channels}
        self._batch_sizes = {
            ch: self.config.batch_size or batch_size_for(ch, pacing) for ch in channels
        }
        self._concurrency = {
            ch: self.config.concurrency or concurrency_for(ch, pacing) for ch in channels
        }
        self._logged: set[str] = set()

    async def dispatch_due(self, now: datetime | None = None) -> DispatchReport:
        """One pass: send everything due (at `now`, fixed, when given; else the clock)."""
        with unit_of_work(self.engine) as session:
            cancelled = outbox.cancel_expired(session, now=now or self.clock())
            session.commit()
        total = DispatchReport(cancelled=cancelled)
        for provider in self.providers.values():
            total.add(
                await reconcile(
                    self.engine,
                    provider,
                    now=now or self.clock(),
                    claim_for=self.config.claim_for,
                    spend_tz=self.settings.tz,
                )
            )
        reports = await asyncio.gather(*(self._channel_pass(ch, now) for ch in self._pacers))
        for report in reports:
            total.add(report)
        return total

    async def run_forever(
        self, *, interval: float = 2.0, stop: asyncio.Event | None = None
    ) -> None:
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
            batch = outbox.claim_batch(
                self.engine, channel=channel, limit=limit, now=now, claim_for=self.config.claim_for
            )
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
                self._log_once(
                    f"nc:{channel}", f"not sent: no {channel.upper()} provider configured"
                )
            return 0
        size = self._batch_sizes[channel]
        cap = self._cap(channel, now)
        if cap is None:
            return size
        with read_only(self.engine) as session:
            left = cap.limit - outbox.spent_on(session, channel=channel, cap=cap)
        if left <= 0:
            self._log_cap(now)
        return min(size, max(left, 0))

    def _cap(self, channel: str, now: datetime) -> DailyCap | None:
        """The SMS daily cap of the local day of `now` (other channels have none)."""
        if channel != "sms":
            return None
        local = now.astimezone(self.settings.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return DailyCap(day=local.date(), limit=self.settings.sms_daily_cap, since=midnight)

    def _log_cap(self, now: datetime) -> None:
        day = now.astimezone(self.settings.tz).date()
        self._log_once(
            f"cap:{day}",
            f"SMS daily cap of {self.settings.sms_daily_cap} "
            f"segments reached on {day}: SMS wait until tomorrow",
            logging.ERROR,
        )

    def _has_due(self, channel: str, now: datetime) -> bool:
        with read_only(self.engine) as session:
            return outbox.has_due(session, channel=channel, now=now)

    async def _process(
        self, channel: str, batch: list[Claimed], now: datetime, fixed_now: datetime | None
    ) -> tuple[DispatchReport, bool]:
        """Check, send and record one claimed batch; True when the channel must stop."""
        to_send, skipped = self._screen(batch, now)
        report = DispatchReport()
        if skipped:
            report = self._record([], skipped, [], fixed_now or self.clock())
        sent, stop = await self._send_all(channel, to_send, fixed_now)
        report.add(sent)
        return report, stop

    def _screen(self, batch: list[Claimed], now: datetime) -> tuple[list[Claimed], dict[int, str]]:
        """Split the batch into what may go and what is cancelled (id → reason)."""
        ids = [m.beneficiary_id for m in batch if m.beneficiary_id is not None]
        with read_only(self.engine) as session:
            flags = outbox.recipient_flags(session, ids)
            stopped = opted_out_among(session, [m.address for m in batch])
        return screen(
            batch, flags, now, opted_out_addresses=stopped, sms_regions=self.settings.sms_regions
        )

    async def _send_all(
        self, channel: str, batch: list[Claimed], fixed_now: datetime | None
    ) -> tuple[DispatchReport, bool]:
        """Send the batch in waves (bot.outbox.pacing.wave_size: half a second of sending): each
        wave is committed as "attempt started" (and counted against the daily cap, which may leave
        the rest of the batch for tomorrow), sent with bounded concurrency, and its outcomes
        recorded at once, so a crash leaves at most one wave unrecorded, and that wave is
        reconciled, not resent blindly. True when the channel must stop (cap, no provider)."""
        provider = self.providers[channel]
        size = wave_size(channel, self.config.pacing, len(batch))
        report, stop = DispatchReport(), False
        for start in range(0, len(batch), size):
            now = fixed_now or self.clock()
            cap = self._cap(channel, now)
            wave = outbox.begin_wave(self.engine, batch[start : start + size], now=now, cap=cap)
            over_cap = wave.over_cap + batch[start + size :] if wave.over_cap else []
            results = await self._send_wave(channel, provider, wave.started)
            spend_day = cap.day if cap is not None else None
            report.add(self._record(results, {}, over_cap, fixed_now or self.clock(), spend_day))
            if any(r.outcome == Outcome.NOT_CONFIGURED for _, r in results):
                stop = True
            if over_cap:
                self._log_cap(now)
                stop = True
                break
        self._pacers[channel].forget_idle()
        return report, stop

    async def _send_wave(
        self, channel: str, provider: Provider, wave: list[Claimed]
    ) -> list[tuple[Claimed, SendResult]]:
        """Every message of the wave through the provider, at most `concurrency` calls at a
        time (that many tasks taking the next message in turn), each at its pacer's turn."""
        pacer = self._pacers[channel]
        results: list[tuple[Claimed, SendResult]] = []
        pending = iter(wave)

        async def worker() -> None:
            for message in pending:
                await pacer.wait_turn(message.address, message.segments)
                results.append((message, await self._send_one(provider, message)))

        tasks = min(self._concurrency[channel], len(wave))
        await asyncio.gather(*(worker() for _ in range(tasks)))
        return results

    async def _send_one(self, provider: Provider, message: Claimed) -> SendResult:
        try:
            return await provider.send(message.address, message.body or "")
        except Exception as exc:  # a provider bug: we cannot know whether it went out
            log.exception("provider %s raised on outbox row %s", provider.channel, message.id)
            return SendResult(Outcome.UNKNOWN, error=f"provider error: {exc!r}")

    def _record(
        self,
        results: list[tuple[Claimed, SendResult]],
        skipped: dict[int, str],
        over_cap: list[Claimed],
        now: datetime,
        spend_day: date | None = None,
    ) -> DispatchReport:
        tomorrow = self._next_local_midnight(now)
        with unit_of_work(self.engine) as session:
            report = record_outcomes(
                session,
                results,
                skipped,
                over_cap,
                now=now,
                tomorrow=tomorrow,
                config=self.config,
                log_once=self._log_once,
                spend_day=spend_day,
            )
            session.commit()
        return report

    def _next_local_midnight(self, now: datetime) -> datetime:
        local = now.astimezone(self.settings.tz)
        next_day = local.date() + timedelta(days=1)
        return datetime.combine(next_day, datetime.min.time(), self.settings.tz).astimezone(UTC)

    def _log_once(self, key: str, message: str, level: int = logging.WARNING) -> None:
        if key not in self._logged:
            self._logged.add(key)
            log.log(level, message)
