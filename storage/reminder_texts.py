"""Reminder texts and outbox rows: to whom, on which channel, with which text.

- Channel: `preferred_channel` if set, else `last_channel`, else whichever address exists.
- A call (channel "voice", `PASSNUM_VOICE_REMINDERS`) only for people who chose it; its body is
  the spoken turn as JSON (flows.voice), said by bot.outbox.twilio_voice.
- SMS texts go through the SMS renderer (GSM-7, one segment); with a one-way SMS sender, the
  `*_one_way` catalog texts say whom to call instead of asking for a reply.
- A text missing from the catalogs is logged once and its messages are not queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import String, and_, case, cast, literal
from sqlmodel import Session

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
    "enqueue_rows",
    "reminder_row",
]

# Logged under the name operators already filter on (the module this code came from).
log = logging.getLogger("storage.reminders")

Render = Callable[[str, str, str, Mapping[str, Any]], "tuple[str, int] | None"]
"""(channel, language, catalog key, params) → (text, SMS segments), None if the key is missing."""


@dataclass(frozen=True)
class Person:
    """Who a reminder goes to. `{"id": 3, "first_name": "Aïcha", "language": "fr",
    "phone": "+33612345678", "telegram_chat_id": null, "preferred_channel": null,
    "last_channel": "sms", "telegram_unreachable": false}`"""

    id: int
    first_name: str
    language: str
    phone: str | None
    telegram_chat_id: int | None
    preferred_channel: str | None
    last_channel: str | None
    telegram_unreachable: bool


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


def choose_address(person: Person, *, voice: bool = False) -> tuple[str, str] | None:
    """(channel, address): preferred channel, else the last one used, else any address.
    A call ("voice") only for people who chose it, and only when calls are offered."""
    addresses = {"sms": person.phone}
    if voice and person.preferred_channel == "voice" and person.phone:
        return "voice", person.phone
    if person.telegram_chat_id is not None and not person.telegram_unreachable:
        addresses["telegram"] = f"tg:{person.telegram_chat_id}"
    for channel in (person.preferred_channel, person.last_channel, "sms", "telegram"):
        if channel in addresses and addresses[channel]:
            return channel, addresses[channel]  # type: ignore[return-value]
    return None


def chosen_channel_sql(*, voice: bool = False) -> Any:
    """`choose_address`'s channel as SQL (NULL when the person has no usable address)."""
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


def reminder_row(
    person: Person,
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
    """The outbox row (keywords of storage.outbox.enqueue) for one reminder, or None."""
    target = choose_address(person, voice=voice)
    if target is None:
        return None
    channel, address = target
    one_way = channel == "sms" and not two_way
    rendered = render(channel, person.language, f"{key}_one_way" if one_way else key, params)
    if rendered is None:
        return None
    body, segments = rendered
    return {
        "channel": channel,
        "address": address,
        "body": body,
        "segments": segments,
        "beneficiary_id": person.id,
        "dedupe_key": dedupe_key,
        "not_after": not_after,
        "send_after": send_at,
    }


def enqueue_rows(session: Session, rows: Iterable[dict[str, Any] | None], *, now: datetime) -> int:
    """Queue the rows that are not None in one bulk insert (storage.outbox.enqueue_many)."""
    return enqueue_many(session, [row for row in rows if row is not None], now=now)


def catalog_renderer(tz: tzinfo, catalogs: Mapping[str, Mapping[str, str]] | None = None) -> Render:
    """Render with the message catalogs: SMS transliterated to GSM-7, Telegram as written."""
    from config.catalogs import load_catalogs
    from flows.gsm7 import sms_segments
    from flows.render import render_sms, render_telegram
    from flows.types import Reply
    from flows.voice import reminder_reply, render_voice

    books = load_catalogs() if catalogs is None else catalogs
    missing: set[str] = set()

    # Everyone booked on a slot gets the same text: cache it (texts hold no personal data).
    @lru_cache(maxsize=4096)
    def cached(
        channel: str, language: str, key: str, items: tuple[tuple[str, Any], ...]
    ) -> tuple[str, int]:
        reply = Reply(key, dict(items))
        if channel == "sms":
            text = render_sms([reply], books, language, tz)[0]
            return text, sms_segments(text)
        if channel == "voice":  # the call's words and keys, as JSON (bot.channels.voice_twiml)
            return render_voice(
                [reminder_reply(key, reply.params)], books, language, tz
            ).to_json(), 1
        return render_telegram([reply], books, language, tz)[0].text, 1

    def render(
        channel: str, language: str, key: str, params: Mapping[str, Any]
    ) -> tuple[str, int] | None:
        if not any(key in books.get(lang, {}) for lang in (language, "fr")):
            if key not in missing:  # a missing text must not go out as "reminder.xyz"
                missing.add(key)
                log.error("catalog text %r is missing: those messages are not queued", key)
            return None
        return cached(channel, language, key, tuple(sorted(params.items())))

    return render
