"""The server under benchmark, run as its own process by `passnum bench`:

    python -m bot.bench_server full PORT   # the real app (settings from the environment)
    python -m bot.bench_server bare PORT   # parse the form, check the signature, fixed TwiML

The bare endpoint does the part of the work any Twilio webhook must do, so full/bare is the
cost of passnum's own conversation path, whatever the machine.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response

from bot.http_limits import read_form
from bot.server import tune_interpreter
from bot.twilio_sms import signature_is_valid
from config import Settings, load_settings

__all__ = ["bare_app"]

FIXED_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>OK</Message></Response>'


def bare_app(settings: Settings) -> FastAPI:
    app = FastAPI()

    @app.post("/sms/twilio")
    async def bare(request: Request) -> Response:
        form = await read_form(request)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature_is_valid(settings, request.url.path, form, signature):
            raise HTTPException(403, "invalid Twilio signature")
        return Response(FIXED_TWIML, media_type="text/xml")

    return app


def main() -> None:
    mode, port = sys.argv[1], int(sys.argv[2])
    tune_interpreter()  # as `passnum serve` does, for both servers
    settings = load_settings()
    if mode == "bare":
        app = bare_app(settings)
    else:
        from bot.server import create_app
        from storage.abuse import InboundLimits

        app = create_app(settings, run_scheduler=False)
        # The benchmark is one big flood from a few thousand numbers: measure the path, not
        # the flood limits (they are tested on their own).
        app.state.services.assistant.limits = InboundLimits(
            per_address=10**9, per_beneficiary=10**9, unknown_global=10**9
        )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
