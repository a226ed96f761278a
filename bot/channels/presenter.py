"""Rendering a turn's replies for a channel with the catalogs (loaded once)."""

from __future__ import annotations

from bot.channels.assistant import Turn
from config import Settings
from config.catalogs import load_catalogs
from flows.render import TelegramMessage, render_sms, render_telegram
from flows.voice import VoiceTurn, render_voice

__all__ = ["Presenter", "TelegramMessage", "keyboard_rows"]


def keyboard_rows(message: TelegramMessage) -> list[list[tuple[str, str | None]]] | None:
    """A message's keyboard as rows of (label, request)."""
    if not message.keyboard:
        return None
    return [[(button.label, button.request) for button in row] for row in message.keyboard]


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
