"""Outbound messages, storage side: the person columns, the channel rule as SQL, the writes.

The rules themselves (channel, times, texts) are pure functions in flows.outbound; the job
handlers (bot.outbox.reminder_planning) read with storage, call them, and pass the messages here.

- `PERSON_COLUMNS`: the columns of a `flows.types.Recipient`, for queries.
- `chosen_channel_sql` / `chosen_address_sql`: flows.outbound.channel.choose_address written
  as SQL, for set-based planning and broadcasts.
- `enqueue_messages`: queue `flows.types.MessageToQueue`s in one bulk insert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import String, and_, case, cast, literal
from sqlmodel import Session

from flows.types import MessageToQueue, Recipient
from storage.models import Beneficiary
from storage.outbox import enqueue_many

__all__ = [
    "PERSON_COLUMNS",
    "Person",
    "Render",
    "catalog_renderer",
    "choose_address",
    "chosen_address_sql",
    "chosen_channel_sql",
    "enqueue_messages",
    "enqueue_rows",
    "message_row",
    "reminder_row",
]

Person = Recipient  # the name the older storage modules use

PERSON_COLUMNS = (
    Beneficiary.id,
    Beneficiary.first_name,
    Beneficiary.language,
    Beneficiary.phone,
    Beneficiary.telegram_chat_id,
    Beneficiary.preferred_channel,
    Beneficiary.last_channel,
    Beneficiary.telegram_unreachable,
)
"""The columns of a `flows.types.Recipient`, in its field order: `Recipient(*row)`."""


def chosen_channel_sql(*, voice: bool = False) -> Any:
    """flows.outbound.channel.choose_address's channel as SQL (NULL when the person has no
    usable address)."""
    sms_ok = Beneficiary.phone.is_not(None) & (Beneficiary.phone != "")  # type: ignore[union-attr]
    tg_ok = Beneficiary.telegram_chat_id.is_not(None) & Beneficiary.telegram_unreachable.is_(False)  # type: ignore[union-attr]
    whens: list[Any] = []
    if voice:
        whens.append((and_(Beneficiary.preferred_channel == "voice", sms_ok), "voice"))
    for chosen in (Beneficiary.preferred_channel, Beneficiary.last_channel):
        whens += [
            (and_(chosen == "sms", sms_ok), "sms"),
            (and_(chosen == "telegram", tg_ok), "telegram"),
        ]
    whens += [(sms_ok, "sms"), (tg_ok, "telegram")]
    return case(*whens, else_=None)


def chosen_address_sql(channel: Any) -> Any:
    """The address on `channel` (a `chosen_channel_sql()` expression) as SQL."""
    return case(
        (channel.in_(("sms", "voice")), Beneficiary.phone),
        else_=literal("tg:") + cast(Beneficiary.telegram_chat_id, String),
    )


def message_row(message: MessageToQueue) -> dict[str, Any]:
    """The keywords of storage.outbox.enqueue for one message."""
    return {
        "channel": message.channel,
        "address": message.address,
        "body": message.body,
        "segments": message.segments,
        "beneficiary_id": message.beneficiary_id,
        "dedupe_key": message.dedupe_key,
        "not_after": message.not_after,
        "send_after": message.send_after,
    }


def enqueue_messages(
    session: Session, messages: Iterable[MessageToQueue | None], *, now: datetime
) -> int:
    """Queue the messages that are not None in one bulk insert (storage.outbox.enqueue_many);
    a dedupe key already in the outbox is skipped."""
    rows = [message_row(message) for message in messages if message is not None]
    return enqueue_many(session, rows, now=now)


def enqueue_rows(session: Session, rows: Iterable[dict[str, Any] | None], *, now: datetime) -> int:
    """Queue the outbox rows (keywords of storage.outbox.enqueue) that are not None."""
    return enqueue_many(session, [row for row in rows if row is not None], now=now)


# ---------------------------------------------------------------- compatibility
# Slot-change notices (storage.slot_notices), the booklet lock (storage.booklet_guard), the
# old-phone notice (storage.phone_notices), help answers (storage.beneficiaries_admin) and the
# console's slot audience (storage.console_queries) still choose the channel and render the
# text down here. They import flows' rules, against the import contract "storage imports only
# flows.types": this block goes once their handlers pass the messages down.

log = logging.getLogger("storage.reminders")  # the name operators already filter on

Render = Callable[[str, str, str, Mapping[str, Any]], "tuple[str, int] | None"]
"""flows.outbound.texts.Render."""


def choose_address(person: Recipient, *, voice: bool = False) -> tuple[str, str] | None:
    """flows.outbound.channel.choose_address."""
    from flows.outbound.channel import choose_address as choose

    return choose(person, voice=voice)


def reminder_row(
    person: Recipient,
    *,
    key: str,
    params: Mapping[str, Any],
    dedupe_key: str,
    send_at: datetime,
    not_after: datetime | None,
    render: Render,
    two_way: bool,
    voice: bool = False,
) -> dict[str, Any] | None:
    """The outbox row of flows.outbound.reminders.message_to, or None."""
    from flows.outbound.reminders import message_to

    message = message_to(
        person,
        key=key,
        params=params,
        dedupe_key=dedupe_key,
        send_at=send_at,
        not_after=not_after,
        render=render,
        two_way=two_way,
        voice=voice,
    )
    return None if message is None else message_row(message)


def catalog_renderer(tz: tzinfo, catalogs: Mapping[str, Mapping[str, str]] | None = None) -> Render:
    """flows.outbound.texts.catalog_renderer over the message catalogs, missing texts logged."""
    from config.catalogs import load_catalogs
    from flows.outbound.texts import catalog_renderer as renderer

    books = load_catalogs() if catalogs is None else catalogs
    return renderer(books, tz, on_missing=_log_missing)


def _log_missing(key: str) -> None:
    log.error("catalog text %r is missing: those messages are not queued", key)
