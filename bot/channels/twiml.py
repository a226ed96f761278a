"""TwiML for the SMS webhook's answer, written as a string.

twilio's MessagingResponse builds an ElementTree and serialises it: about 0.25 ms a reply,
for a document whose only variable part is the text of each message. This writes the same
bytes (tests/e2e/test_twiml.py compares both on awkward texts): ElementTree escapes `&`, `<`
and `>` in element text and nothing else, and writes an empty element as `<Name />`.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["messages_twiml"]

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _message(text: str) -> str:
    return f"<Message>{_escape(text)}</Message>" if text else "<Message />"


def messages_twiml(texts: Iterable[str]) -> str:
    """`<Response>` with one `<Message>` per text (none: an empty response, no SMS sent)."""
    body = "".join(_message(text) for text in texts)
    return f"{_DECLARATION}<Response>{body}</Response>" if body else f"{_DECLARATION}<Response />"
