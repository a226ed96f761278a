"""Reading request bodies with a size limit, before anything else looks at them."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import HTTPException, Request

__all__ = ["read_form", "read_body", "MAX_WEBHOOK_BYTES"]

MAX_WEBHOOK_BYTES = 32 * 1024  # a Twilio form or Telegram update is a few KB at most


async def read_body(request: Request, limit: int = MAX_WEBHOOK_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, "request body too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, "request body too large")
    return body


async def read_form(request: Request, limit: int = MAX_WEBHOOK_BYTES) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as a dict (last value wins)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(415, "expected application/x-www-form-urlencoded")
    body = await read_body(request, limit)
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise HTTPException(400, "body is not UTF-8") from None
