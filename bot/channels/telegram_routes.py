"""POST /telegram/webhook: check the secret header, store the update, answer.

As in python-telegram-bot's custom-webhook example the route only turns the request into an
update and queues it, but the queue is a database table: Telegram does not resend an update
it got a 200 for, so the 200 comes only once the update is stored (a 503 otherwise, and
Telegram retries). The worker in `bot.channels.telegram_worker` answers it.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, HTTPException, Request, Response

from bot.channels.telegram_inbox import NotAnUpdate, read_update
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
    inbox = services.telegram_inbox
    if inbox is None:
        raise HTTPException(503, "Telegram is not configured")
    try:
        incoming = read_update(await read_body(request))
    except NotAnUpdate as reason:
        raise HTTPException(400, f"not a Telegram update: {reason}") from None
    try:
        await inbox.accept(incoming)
    except Exception as error:  # noqa: BLE001 - whatever it is, the update is not stored
        log.warning("telegram update not stored (%s): 503", type(error).__name__)
        raise HTTPException(503, "update not stored, retry later") from None
    return Response(status_code=200)
