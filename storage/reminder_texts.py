"""Outbound messages, storage side: the person columns, the channel rule as SQL, the writes.

The rules themselves (channel, times, texts) are pure functions in flows.outbound; the job
handlers (bot.outbox.reminder_planning) read with storage, call them, and pass the messages here.

- `PERSON_COLUMNS`: the columns of a `flows.types.Recipient`, for queries.
- `chosen_channel_sql` / `chosen_address_sql`: flows.outbound.channel.choose_address written
  as SQL, for set-based planning and broadcasts.
- `enqueue_messages`: queue `flows.types.MessageToQueue`s in one bulk insert.
- `NoticeWriter`: what storage code queuing a one-off notice is handed (built in bot/).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import String, and_, case, cast, literal
from sqlmodel import Session

from flows.types import MessageToQueue, Recipient
from storage.models import Beneficiary
from storage.outbox import enqueue_many

__all__ = [
    "PERSON_COLUMNS",
    "NoticeWriter",
    "Person",
    "chosen_address_sql",
    "chosen_channel_sql",
    "enqueue_messages",
    "enqueue_rows",
    "message_row",
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


class NoticeWriter(Protocol):
    """Writes one-off notices with the outbound rules (bot.outbox.notices.NoticeComposer):
    storage code that queues a notice in its transaction is handed one, and holds no rule."""

    def channel_of(self, person: Recipient) -> tuple[str, str] | None:
        """(channel, address) the person is written to, or None."""
        ...

    def to_person(
        self,
        person: Recipient,
        *,
        key: str,
        params: Mapping[str, Any],
        dedupe_key: str,
        send_at: datetime,
        not_after: datetime | None,
    ) -> MessageToQueue | None:
        """The catalog text `key` to the person on their channel; None without either."""
        ...

    def to_address(
        self,
        *,
        channel: str,
        address: str,
        language: str,
        key: str,
        params: Mapping[str, Any],
        beneficiary_id: int | None,
        dedupe_key: str,
        send_at: datetime,
        not_after: datetime | None = None,
    ) -> MessageToQueue | None:
        """The catalog text `key` to this very address (an old phone, a previous chat)."""
        ...
