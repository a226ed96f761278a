"""What outbound messages say: a catalog text rendered for its channel.

- SMS texts go through the SMS renderer (GSM-7, one segment); with a one-way SMS sender, the
  `*_one_way` catalog texts say whom to call instead of asking for a reply.
- Telegram gets the text as written; a call ("voice") gets the spoken turn as JSON
  (flows.voice), said by bot.outbox.twilio_voice.
- A text missing from the catalogs gives None: its messages are not queued (never
  "reminder.xyz" as a text); the caller is told through `on_missing` to log it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import tzinfo
from functools import lru_cache
from typing import Any

from flows.gsm7 import sms_segments
from flows.render import Catalogs, render_sms, render_telegram
from flows.types import Reply
from flows.voice import reminder_reply, render_voice

__all__ = ["Catalogs", "Render", "catalog_key", "catalog_renderer", "has_text", "render_text"]

Render = Callable[[str, str, str, Mapping[str, Any]], "tuple[str, int] | None"]
"""(channel, language, catalog key, params) → (text, SMS segments), None if the key is missing."""


def catalog_key(key: str, channel: str, *, two_way: bool) -> str:
    """The catalog key to use: the `_one_way` variant for SMS when people cannot reply."""
    return f"{key}_one_way" if channel == "sms" and not two_way else key


def has_text(catalogs: Catalogs, language: str, key: str) -> bool:
    """Whether `key` exists in `language` or in French (the fallback)."""
    return any(key in catalogs.get(lang, {}) for lang in (language, "fr"))


def render_text(
    catalogs: Catalogs,
    tz: tzinfo,
    channel: str,
    language: str,
    key: str,
    params: Mapping[str, Any],
) -> tuple[str, int]:
    """(text, SMS segments) of one catalog text on `channel` (`has_text` must hold)."""
    reply = Reply(key, dict(params))
    if channel == "sms":
        text = render_sms([reply], catalogs, language, tz)[0]
        return text, sms_segments(text)
    if channel == "voice":  # the call's words and keys, as JSON (bot.channels.voice_twiml)
        return render_voice(
            [reminder_reply(key, reply.params)], catalogs, language, tz
        ).to_json(), 1
    return render_telegram([reply], catalogs, language, tz)[0].text, 1


def catalog_renderer(
    catalogs: Catalogs, tz: tzinfo, *, on_missing: Callable[[str], None] | None = None
) -> Render:
    """A `Render` over `catalogs`; `on_missing(key)` is called once per missing key."""
    known: dict[tuple[str, str], bool] = {}  # (language, key) → has_text
    told: set[str] = set()

    # Everyone booked on a slot gets the same text: cache it (texts hold no personal data).
    @lru_cache(maxsize=4096)
    def cached(
        channel: str, language: str, key: str, items: tuple[tuple[str, Any], ...]
    ) -> tuple[str, int]:
        return render_text(catalogs, tz, channel, language, key, dict(items))

    def render(
        channel: str, language: str, key: str, params: Mapping[str, Any]
    ) -> tuple[str, int] | None:
        found = known.get((language, key))
        if found is None:
            found = known[(language, key)] = has_text(catalogs, language, key)
        if not found:
            if key not in told and on_missing is not None:
                told.add(key)
                on_missing(key)
            return None
        return cached(channel, language, key, tuple(sorted(params.items())))

    return render
