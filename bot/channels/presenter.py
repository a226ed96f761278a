"""Rendering a turn's replies for a channel with the catalogs (loaded once)."""

from __future__ import annotations

import json

from bot.channels.assistant import Turn
from config import Settings
from config.catalogs import load_catalogs
from flows.render import Button, TelegramMessage, render_sms, render_telegram
from flows.voice import VoiceTurn, render_voice

__all__ = [
    "Presenter",
    "TelegramMessage",
    "keyboard_rows",
    "telegram_messages_from_json",
    "telegram_messages_to_json",
]


def keyboard_rows(message: TelegramMessage) -> list[list[tuple[str, str | None]]] | None:
    """A message's keyboard as rows of (label, request)."""
    if not message.keyboard:
        return None
    return [[(button.label, button.request) for button in row] for row in message.keyboard]


def telegram_messages_to_json(messages: list[TelegramMessage]) -> str | None:
    """Telegram messages as kept with the inbound row until sent; None when there are none."""
    if not messages:
        return None
    return json.dumps(
        [{"text": message.text, "keyboard": keyboard_rows(message)} for message in messages],
        ensure_ascii=False,
    )


def telegram_messages_from_json(kept: str | None) -> list[TelegramMessage]:
    """The inverse of telegram_messages_to_json (an empty list for None)."""
    if not kept:
        return []
    messages = []
    for item in json.loads(kept):
        rows = item.get("keyboard")
        keyboard = (
            tuple(tuple(Button(label, request) for label, request in row) for row in rows)
            if rows
            else None
        )
        messages.append(TelegramMessage(item["text"], keyboard))
    return messages


class Presenter:
    def __init__(self, settings: Settings) -> None:
        self.catalogs = load_catalogs()
        self.tz = settings.tz

    def sms(self, turn: Turn) -> list[str]:
        return render_sms(turn.replies, self.catalogs, turn.language, self.tz)

    def voice(self, turn: Turn) -> VoiceTurn:
        return render_voice(turn.replies, self.catalogs, turn.language, self.tz)

    def telegram(self, turn: Turn) -> list[TelegramMessage]:
        return render_telegram(turn.replies, self.catalogs, turn.language, self.tz)
