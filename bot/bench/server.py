"""The servers under benchmark, each run as its own process by `passnum bench`:

    python -m bot.bench.server full PORT [WORKERS]  # the real app, settings from the environment
    python -m bot.bench.server bare PORT            # read the form, check the signature, TwiML

The bare endpoint is a plain Starlette route doing the part of the work any Twilio webhook
must do (read the form, check the signature, answer TwiML), so full/bare is the cost of
passnum's own conversation path, whatever the machine.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.outbox.twilio_sms import signature_is_valid
from bot.server import tune_interpreter
from config import load_settings

__all__ = ["bare_app", "full_app"]

FIXED_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>OK</Message></Response>'


def bare_app() -> Starlette:
    settings = load_settings()

    async def bare(request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature_is_valid(settings, request.url.path, form, signature):
            return Response("invalid Twilio signature", status_code=403)
        return Response(FIXED_TWIML, media_type="text/xml")

    return Starlette(routes=[Route("/sms/twilio", bare, methods=["POST"])])


def full_app() -> FastAPI:
    """The real app, its flood limits lifted: the benchmark is one big flood from a few
    numbers, and it measures the path, not the limits (they are tested on their own; the
    counters are still counted)."""
    from bot.runtime import open_database
    from bot.server import create_app
    from storage.abuse import InboundLimits

    tune_interpreter()  # as `passnum serve` does
    settings = load_settings()
    app = create_app(settings, engine=open_database(settings, migrate=False), run_scheduler=False)
    app.state.services.assistant.limits = InboundLimits(
        per_address=10**9, per_beneficiary=10**9, unknown_global=10**9
    )
    return app


def main() -> None:
    mode, port = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    tune_interpreter()
    options = {"host": "127.0.0.1", "port": port, "log_level": "warning", "access_log": False}
    if mode == "bare":
        uvicorn.run(bare_app(), **options)  # type: ignore[arg-type]
    elif workers > 1:
        uvicorn.run("bot.bench.server:full_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]
    else:
        uvicorn.run(full_app(), **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
