"""No phone number, chat id or message text in the logs, whoever logs and however.

Database errors are the usual leak: SQLAlchemy prints a failed statement's parameters (engines
are created with `hide_parameters=True` for that, see storage.db), and PostgreSQL's own message
quotes the values (`DETAIL: Key (phone)=(+336…)`, `Failing row contains (…, +336…, <body>)`).
Every log record is cleaned where it is created (a record factory), so that uvicorn's handlers,
the scheduler's job errors and a test's captured logs all get the same clean text."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from storage.phones import mask_phone

__all__ = ["install_log_redaction", "redact"]

_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)
_PARAMETERS = re.compile(r"\[parameters: .*\]$", re.MULTILINE)
_E164 = re.compile(r"(?<![\w+])\+\d{8,15}(?!\w)")
_NATIONAL = re.compile(r"(?<![\w+])0[1-9](?:[ .-]?\d{2}){4}(?!\w)")
_CHAT = re.compile(r"\btg:-?\d+")


def redact(text: str) -> str:
    """The text with database value details dropped, phone numbers masked, chat ids hidden."""
    text = _DETAIL.sub(r"\1 (values hidden)", text)
    text = _PARAMETERS.sub("[parameters hidden]", text)
    text = _E164.sub(lambda m: mask_phone(m.group()), text)
    text = _NATIONAL.sub(lambda m: m.group()[:2] + "** ** ** " + m.group()[-2:], text)
    return _CHAT.sub("tg:(hidden)", text)


def _clean(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string is the logger's problem, not ours
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters reuse exc_text when it is set: the traceback is written cleaned.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_log_redaction() -> None:
    """Clean every log record of this process from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "passnum_redacting", False):
        return

    def cleaning_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _clean(factory(*args, **kwargs))

    cleaning_factory.passnum_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(cleaning_factory)
