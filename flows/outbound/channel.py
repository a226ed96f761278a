"""On which channel a person is written to: preferred channel, else the last one used, else
whichever address exists. A call ("voice") only for people who chose it, and only when calls
are offered (`PASSNUM_VOICE_REMINDERS`). storage.reminder_texts.chosen_channel_sql is the same
rule written as SQL, for set-based planning and broadcasts (tests check they agree)."""

from __future__ import annotations

from flows.types import Recipient

__all__ = ["CHANNELS", "choose_address", "telegram_address"]

CHANNELS = ("sms", "telegram", "voice")


def telegram_address(chat_id: int) -> str:
    """The outbox address of a Telegram chat: `tg:<chat id>`."""
    return f"tg:{chat_id}"


def choose_address(person: Recipient, *, voice: bool = False) -> tuple[str, str] | None:
    """(channel, address), or None when the person has no usable address."""
    if voice and person.preferred_channel == "voice" and person.phone:
        return "voice", person.phone
    addresses: dict[str, str] = {}
    if person.phone:
        addresses["sms"] = person.phone
    if person.telegram_chat_id is not None and not person.telegram_unreachable:
        addresses["telegram"] = telegram_address(person.telegram_chat_id)
    for channel in (person.preferred_channel, person.last_channel, "sms", "telegram"):
        if channel in addresses:
            return channel, addresses[channel]
    return None
