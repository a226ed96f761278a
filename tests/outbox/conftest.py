"""Fixtures of the outbox tests: the loopback gateway, settings, an unpaced dispatcher config."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from bot.fakes.provider import FakeGateway, LoopbackProvider
from bot.outbox.dispatcher import DispatchConfig
from bot.outbox.pacing import PacingConfig
from config import Settings

UNPACED = PacingConfig(None, None, None)


def make_settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    gw = FakeGateway().start()
    yield gw
    gw.stop()


@pytest.fixture
def providers(gateway: FakeGateway) -> dict[str, LoopbackProvider]:
    return {
        "sms": LoopbackProvider("sms", gateway.url, timeout=1.0),
        "telegram": LoopbackProvider("telegram", gateway.url, timeout=1.0),
    }


@pytest.fixture
def fast() -> DispatchConfig:
    return DispatchConfig(pacing=UNPACED, backoff_base=timedelta(seconds=30))


def paris(text: str) -> datetime:
    """'2026-12-01 10:00' read as Europe/Paris local time."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Paris"))
