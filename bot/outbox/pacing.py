"""Sending rates per channel, so providers never throttle us and phones are not flooded.

- SMS: counted in segments (what Twilio meters and queues): default 10 segments per second.
- Telegram: the Bot API allows about 30 messages per second overall and 1 per second per chat.

A limiter hands out start times spaced by cost / rate ("virtual scheduling", no burst): each
caller awaits its turn, so concurrent send tasks stay within the rate without a central loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = [
    "ChannelPacer",
    "PacingConfig",
    "RateLimiter",
    "batch_size_for",
    "concurrency_for",
    "pacer_for",
    "wave_size",
]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """At most `rate` units per second; `rate=None` means unlimited (benchmarks, tests)."""

    def __init__(
        self, rate: float | None, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    def reserve(self, cost: float = 1.0) -> float:
        """Book the next turn for `cost` units; returns how long to wait before using it."""
        if not self.rate:
            return 0.0
        now = self._clock()
        start = max(now, self._next)
        self._next = start + cost / self.rate
        return start - now

    async def acquire(self, cost: float = 1.0) -> None:
        delay = self.reserve(cost)
        if delay > 0:
            await self._sleep(delay)


@dataclass(frozen=True)
class PacingConfig:
    """`{"sms_segments_per_second": 10, "telegram_per_second": 30,
    "telegram_per_chat_per_second": 1}`; None means unlimited."""

    sms_segments_per_second: float | None = 10.0
    telegram_per_second: float | None = 30.0
    telegram_per_chat_per_second: float | None = 1.0


class ChannelPacer:
    """One channel's overall limiter, plus one per address when the channel needs it."""

    def __init__(
        self,
        overall: RateLimiter,
        *,
        per_address: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        count_segments: bool = False,
    ) -> None:
        self.overall = overall
        self.per_address = per_address
        self.count_segments = count_segments
        self._clock = clock
        self._sleep = sleep
        self._addresses: dict[str, RateLimiter] = {}

    async def wait_turn(self, address: str, segments: int = 1) -> None:
        """Wait until this message may go: its chat's turn first, then the channel's."""
        if self.per_address:
            limiter = self._addresses.get(address)
            if limiter is None:
                limiter = RateLimiter(self.per_address, clock=self._clock, sleep=self._sleep)
                self._addresses[address] = limiter
            await limiter.acquire()
        await self.overall.acquire(segments if self.count_segments else 1)

    def forget_idle(self) -> None:
        """Drop per-address limiters whose turn has passed (keeps memory flat)."""
        now = self._clock()
        self._addresses = {a: lim for a, lim in self._addresses.items() if lim._next > now}


def pacer_for(
    channel: str,
    config: PacingConfig,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> ChannelPacer:
    if channel == "telegram":
        return ChannelPacer(
            RateLimiter(config.telegram_per_second, clock=clock, sleep=sleep),
            per_address=config.telegram_per_chat_per_second,
            clock=clock,
            sleep=sleep,
        )
    return ChannelPacer(
        RateLimiter(config.sms_segments_per_second, clock=clock, sleep=sleep),
        clock=clock,
        sleep=sleep,
        count_segments=True,
    )


def wave_size(channel: str, config: PacingConfig, batch_size: int) -> int:
    """How many messages the dispatcher starts between two records of outcomes: half a second
    of sending at the channel's pace (5 SMS segments at 10/s). A crash leaves at most that many
    messages with an unknown outcome. Unpaced (benchmarks, tests) it is the whole batch."""
    rate = _rate(channel, config)
    if not rate:
        return max(batch_size, 1)
    return max(1, min(batch_size, int(rate / 2)))


UNPACED_BATCH = 1000  # rows per claim when nothing limits the pace (benchmarks, tests)
UNPACED_CONCURRENCY = 32  # provider calls in flight then (keep-alive connections)
BATCH_SECONDS = 20.0  # a paced claim holds this much sending, well within its claim


def _rate(channel: str, config: PacingConfig) -> float | None:
    return config.telegram_per_second if channel == "telegram" else config.sms_segments_per_second


def batch_size_for(channel: str, config: PacingConfig) -> int:
    """Rows per claim, sized to the channel's pace: 20 s of sending (200 SMS segments at
    10/s, 600 Telegram messages at 30/s), between 20 and 1,000; 1,000 unpaced. A claim costs
    three transactions whatever its size, so the fewer the better, but a claimed row waits
    for the ones before it and a crash sends the not-yet-started ones after the claim expires."""
    rate = _rate(channel, config)
    if not rate:
        return UNPACED_BATCH
    return max(20, min(UNPACED_BATCH, int(rate * BATCH_SECONDS)))


def concurrency_for(channel: str, config: PacingConfig) -> int:
    """Provider calls in flight: paced, a wave's worth (more would only wait on the pacer);
    unpaced, enough connections to hide the round trips (32: 8 to 128 measured)."""
    rate = _rate(channel, config)
    if not rate:
        return UNPACED_CONCURRENCY
    return max(1, min(UNPACED_CONCURRENCY, int(rate / 2)))
