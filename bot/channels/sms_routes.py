"""Twilio webhooks: inbound SMS (answered with TwiML) and delivery-status callbacks."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from bot.channels.assistant import Turn, WouldWait
from bot.channels.twiml import messages_twiml
from bot.http_limits import read_form
from bot.outbox.twilio_sms import signature_is_valid
from flows.types import Text
from storage.phones import mask_phone

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter()

MAX_ID_LENGTH = 64  # From and MessageSid are kept in 64-character columns
REPLY_SEPARATOR = "\x1e"  # joins the SMS of one answer when stored with the inbound message


def _twiml(texts: list[str]) -> Response:
    return Response(content=messages_twiml(texts), media_type="text/xml")


async def _signed_form(request: Request) -> dict[str, str]:
    """The verified form, cleaned: NUL characters dropped (PostgreSQL refuses them in text;
    the signature covers the form as sent, so they go only after the check)."""
    form = await read_form(request)
    services = request.app.state.services
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature_is_valid(services.settings, request.url.path, form, signature):
        log.warning("twilio: bad or missing signature on %s", request.url.path)
        raise HTTPException(403, "invalid Twilio signature")
    return {key: value.replace("\x00", "") for key, value in form.items()}


def _required(form: dict[str, str], *names: str) -> list[str]:
    """The named fields, present and no longer than the columns that keep them (64)."""
    values = [form.get(name, "") for name in names]
    if not all(values) or any(len(value) > MAX_ID_LENGTH for value in values):
        raise HTTPException(400, f"{' and '.join(names)} are required (at most 64 characters)")
    return values


async def _converse(services: Any, converse: Callable[..., Turn]) -> Turn:
    """On SQLite, on the event loop: one writer at a time anyway, and the hop to a thread
    and back cost as much as the conversation itself. Should another writer hold the
    database (the scheduler, another process), the turn waits for it in a thread instead,
    never on the loop. PostgreSQL: in a thread, several at once (the pool)."""
    if services.conversations_on_loop:
        try:
            return converse(wait=False)
        except WouldWait:
            pass
    return await anyio.to_thread.run_sync(
        functools.partial(converse, wait=True), limiter=services.conversation_limiter
    )


@router.post("/sms/twilio")
async def inbound_sms(request: Request) -> Response:
    form = await _signed_form(request)
    sender, sid = _required(form, "From", "MessageSid")
    services = request.app.state.services
    texts: list[str] = []

    def render(turn: Turn) -> str:
        texts.extend(services.presenter.sms(turn))
        return REPLY_SEPARATOR.join(texts)

    converse = functools.partial(
        services.assistant.handle,
        channel="sms",
        address=sender,
        message=Text(form.get("Body", "")),
        provider_id=sid,
        body=form.get("Body", ""),
        on_commit=render,
        opt_out_type=form.get("OptOutType", "").upper() or None,
    )
    turn = await _converse(services, converse)
    if turn.duplicate:
        log.info("twilio: %s from %s seen before, repeating the answer", sid, mask_phone(sender))
        texts = turn.stored_reply.split(REPLY_SEPARATOR) if turn.stored_reply else []
    if form.get("OptOutType", "").upper() in {"STOP", "START"}:
        texts = []  # Twilio's Advanced Opt-Out already answered the person
    return _twiml(texts)


@router.post("/sms/twilio/status")
async def status_callback(request: Request) -> Response:
    form = await _signed_form(request)
    sid, status = _required(form, "MessageSid", "MessageStatus")
    services = request.app.state.services
    await run_in_threadpool(
        services.assistant.record_delivery_status, sid, status, form.get("ErrorCode")
    )
    return Response(status_code=204)
