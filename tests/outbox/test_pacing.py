"""Pacing with a fake clock: SMS by segments, Telegram overall and per chat."""

from __future__ import annotations

from bot.outbox.pacing import PacingConfig, pacer_for


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.starts: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_sms_counts_segments() -> None:
    clock = _Clock()
    pacer = pacer_for(
        "sms", PacingConfig(sms_segments_per_second=10), clock=clock, sleep=clock.sleep
    )
    for segments in (2, 2, 1):
        await pacer.wait_turn("+33600000000", segments)
    assert round(clock.now, 3) == 0.4  # the third waits for the first four segments


async def test_telegram_one_per_second_per_chat() -> None:
    clock = _Clock()
    pacer = pacer_for(
        "telegram",
        PacingConfig(telegram_per_second=30, telegram_per_chat_per_second=1),
        clock=clock,
        sleep=clock.sleep,
    )
    await pacer.wait_turn("tg:1")
    await pacer.wait_turn("tg:2")
    assert round(clock.now, 3) == round(1 / 30, 3)
    await pacer.wait_turn("tg:1")
    assert round(clock.now, 3) == 1.0
