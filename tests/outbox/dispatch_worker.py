"""A dispatcher process for the fault tests: sends the whole outbox to a loopback gateway,
then exits. Its clock is wall time mapped onto a fixed allowed weekday morning, so the test
runs the same on a Sunday night, and restarted workers share the same timeline.

    python -m tests.outbox.dispatch_worker DB_URL GATEWAY_URL EPOCH CLAIM_SECONDS RATE [KIND [CAP]]

With KIND `twilio`, GATEWAY_URL is a FakeTwilio and the worker sends through the real Twilio
provider with the production batch size and concurrency. With CAP (SMS segments a day), the
worker stops once a pass sends nothing: the rest waits for tomorrow.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.fakes.provider import LoopbackProvider
from bot.outbox.dispatcher import DispatchConfig, Dispatcher
from bot.outbox.pacing import PacingConfig
from bot.outbox.twilio_sms import TwilioSmsProvider
from config import Settings
from storage import outbox
from storage.db import create_db_engine, unit_of_work

MONDAY_MORNING = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))


def _pending(engine) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        counts = outbox.count_by_status(session)
    return counts.get("queued", 0) + counts.get("sending", 0)


async def main(
    url: str,
    gateway: str,
    epoch: float,
    claim_seconds: float,
    rate: float,
    kind: str = "loopback",
    cap: int = 10**9,
) -> None:
    engine = create_db_engine(url)
    pacing = PacingConfig(rate or None, None, None)
    claim_for = timedelta(seconds=claim_seconds)
    config = DispatchConfig(batch_size=50, concurrency=10, claim_for=claim_for, pacing=pacing)
    settings = Settings(_env_file=None, sms_daily_cap=cap)  # type: ignore[call-arg]
    provider: LoopbackProvider | TwilioSmsProvider = LoopbackProvider("sms", gateway, timeout=5.0)
    if kind == "twilio":
        config = DispatchConfig(claim_for=claim_for, pacing=pacing)
        settings = Settings(
            _env_file=None,
            sms_daily_cap=10**9,
            twilio_api_base=gateway,  # type: ignore[call-arg]
            twilio_account_sid="AC" + "0" * 32,
            twilio_auth_token="t" * 32,
            twilio_from="+33700000000",
        )
        provider = TwilioSmsProvider(settings)
    dispatcher = Dispatcher(
        engine,
        {"sms": provider},
        settings,
        config=config,
        clock=lambda: MONDAY_MORNING + timedelta(seconds=time.time() - epoch),
    )
    while _pending(engine):
        report = await dispatcher.dispatch_due()
        if cap < 10**9 and report.sent == 0:
            break
        await asyncio.sleep(0.1)
    if isinstance(provider, LoopbackProvider):
        await provider.aclose()
    engine.dispose()


if __name__ == "__main__":
    url, gateway, epoch, claim, rate = sys.argv[1:6]
    kind = sys.argv[6] if len(sys.argv) > 6 else "loopback"
    cap = int(sys.argv[7]) if len(sys.argv) > 7 else 10**9
    asyncio.run(main(url, gateway, float(epoch), float(claim), float(rate), kind, cap))
