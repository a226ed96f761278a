"""POST /telegram/webhook: check the secret header, hand the update to the Application."""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, HTTPException, Request, Response
from telegram import Update

from bot.http_limits import read_body

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter()


@router.post("/telegram/webhook")
async def telegram_webhook(request: Request) -> Response:
    services = request.app.state.services
    expected = services.settings.telegram_webhook_secret or ""
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "invalid Telegram secret token")
    application = services.telegram
    if application is None:
        raise HTTPException(503, "Telegram is not configured")
    try:
        data = json.loads(await read_body(request))
        update = Update.de_json(data, application.bot)
    except (ValueError, TypeError, KeyError):
        raise HTTPException(400, "not a Telegram update") from None
    # As in python-telegram-bot's custom-webhook example: queue it, answer at once.
    await application.update_queue.put(update)
    return Response(status_code=200)
