"""Turning replies (catalog keys + parameters) into text, per channel.

Parameters are formatted by the end of their name, so replies stay plain data:
`*_at` datetime → "lun. 3 févr. 14h"; `*_time` → "14h30"; `*_on` date → "31 mars 2027";
`*_km` → "0,8"; `*_cents` → "10 €". Datetimes are UTC and shown in `tz`.
`numbers` ("1, 2 ou 3") is filled in from the choices; `_footer` names a line after them;
a choice's `_language` renders that choice in another language (language names).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from flows.gsm7 import gsm7_length, to_gsm7
from flows.types import Choice, Reply

__all__ = [
    "SMS_BUDGET",
    "SMS_CHOICES_BUDGET",
    "Button",
    "Catalogs",
    "TelegramMessage",
    "render_sms",
    "render_telegram",
]

Catalogs = Mapping[str, Mapping[str, str]]
SMS_BUDGET = 160  # one GSM-7 segment
SMS_CHOICES_BUDGET = 306  # two segments, allowed when the reply lists choices
# Long place names are shortened to these lengths, in turn, until the SMS fits.
_CAPS = (48, 40, 32, 26, 20, 16, 12)
ONE_SEGMENT_CAP = 16  # names are not cut shorter than this to save a segment


@dataclass(frozen=True)
class Button:
    """A Telegram keyboard button; `request` is "location" or "contact" for special ones."""

    label: str
    request: str | None = None


@dataclass(frozen=True)
class TelegramMessage:
    """One Telegram message: the text and its keyboard (one button a row), if any."""

    text: str
    keyboard: tuple[tuple[Button, ...], ...] | None = None


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _format(template: str, params: Mapping[str, Any]) -> str:
    try:
        return template.format_map(_Blank(params))
    except (ValueError, IndexError, AttributeError, KeyError):
        return template  # a broken template is shown as is rather than failing a reply


def _as_datetime(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Writer:
    """Fills catalog templates in one language for one channel."""

    def __init__(self, catalogs: Catalogs, language: str, tz: tzinfo, channel: str) -> None:
        self.catalogs, self.language, self.tz, self.channel = catalogs, language, tz, channel

    def template(self, key: str, language: str | None = None) -> str:
        for lang in (language or self.language, self.language, "fr"):
            catalog = self.catalogs.get(lang, {})
            for candidate in (f"{key}.{self.channel}", key):
                if candidate in catalog:
                    return catalog[candidate]
        return key

    def fill(self, key: str, params: Mapping[str, Any], language: str | None = None) -> str:
        shown = {name: self.value(name, value) for name, value in params.items()}
        return _format(self.template(key, language), shown)

    def value(self, name: str, value: Any) -> str:
        if value is None:
            return ""
        if name.endswith("_at"):
            return self.when(_as_datetime(value))
        if name.endswith("_time"):
            return self.time(_as_datetime(value).astimezone(self.tz))
        if name.endswith("_on"):
            return self.day(value)
        if name.endswith("_km"):
            return self.decimal(float(value), 1)
        if name.endswith("_cents"):
            return self.money(int(value))
        return str(value)

    def when(self, moment: datetime) -> str:
        local = moment.astimezone(self.tz)
        return _format(
            self.template("fmt.datetime"), {**self._date_parts(local), "time": self.time(local)}
        )

    def time(self, local: datetime) -> str:
        key = "fmt.time" if local.minute == 0 else "fmt.time_minutes"
        ampm = self.template("fmt.pm" if local.hour >= 12 else "fmt.am")
        parts = {
            "hour": local.hour,
            "hour12": local.hour % 12 or 12,
            "minute": f"{local.minute:02d}",
            "ampm": ampm,
        }
        return _format(self.template(key), parts)

    def day(self, value: date | str) -> str:
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return _format(self.template("fmt.date"), self._date_parts(value))

    def _date_parts(self, value: date) -> dict[str, Any]:
        return {
            "weekday": self.template(f"fmt.weekday.{value.weekday()}"),
            "day": value.day,
            "month": self.template(f"fmt.month.{value.month}"),
            "year": value.year,
        }

    def decimal(self, number: float, places: int) -> str:
        return f"{number:.{places}f}".replace(".", self.template("fmt.decimal"))

    def money(self, cents: int) -> str:
        amount = str(cents // 100) if cents % 100 == 0 else self.decimal(cents / 100, 2)
        return _format(self.template("fmt.money"), {"amount": amount})

    def numbers(self, choices: Sequence[Choice]) -> str:
        shown = [str(choice.number) for choice in choices]
        if len(shown) <= 1:
            return "".join(shown)
        numbers = [choice.number for choice in choices]
        if len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            return _format(self.template("fmt.range"), {"first": numbers[0], "last": numbers[-1]})
        return f"{', '.join(shown[:-1])} {self.template('fmt.or')} {shown[-1]}"

    def choice(self, choice: Choice, params: Mapping[str, Any]) -> str:
        label = self.fill(choice.key, params, params.get("_language"))
        if choice.request is not None:
            return label
        return _format(self.template("fmt.choice"), {"number": choice.number, "label": label})

    def compose(
        self, reply: Reply, choices: Sequence[Choice], params: Sequence[Mapping[str, Any]]
    ) -> str:
        """Header, one line per numbered choice, then the footer if any."""
        head = {**params[0], "numbers": self.numbers(choices)}
        lines = [self.fill(reply.key, head)]
        lines += [self.choice(c, p) for c, p in zip(choices, params[1:], strict=True)]
        if head.get("_footer"):  # `_footer_items`: it speaks of the first ones only
            count = head.get("_footer_items")
            items = choices[:count] if isinstance(count, int) else choices
            lines.append(self.fill(str(head["_footer"]), {**head, "numbers": self.numbers(items)}))
        return "\n".join(line for line in lines if line)


def _capped(params: Mapping[str, Any], cap: int) -> dict[str, Any]:
    """Long free-text parameters (place names…) shortened; phone numbers never."""

    def short(name: str, value: Any) -> Any:
        if not isinstance(value, str) or name.endswith("phone") or name.startswith("_"):
            return value
        return value if len(value) <= cap else value[: cap - 1].rstrip() + "…"

    return {name: short(name, value) for name, value in params.items()}


def _cut(text: str, budget: int) -> str:
    used, end = 0, 0
    for end, char in enumerate(text):
        used += gsm7_length(char)
        if used > budget - 3:
            return text[:end].rstrip() + "..."
    return text


def sms_text(reply: Reply, writer: _Writer) -> tuple[str, bool]:
    """The SMS for one reply, within budget; True when it had to be cut short."""
    choices = [c for c in reply.choices if c.request is None]  # no special buttons by SMS
    budget = SMS_CHOICES_BUDGET if choices else SMS_BUDGET
    originals = [dict(reply.params), *(dict(c.params) for c in choices)]
    text = ""
    if choices:  # a list fits one SMS when names shortened a little make it fit
        for cap in (None, *(c for c in _CAPS if c >= ONE_SEGMENT_CAP)):
            params = originals if cap is None else [_capped(p, cap) for p in originals]
            text = to_gsm7(writer.compose(reply, choices, params))
            if gsm7_length(text) <= SMS_BUDGET:
                return text, False
    for cap in (None, *_CAPS):
        params = originals if cap is None else [_capped(p, cap) for p in originals]
        text = to_gsm7(writer.compose(reply, choices, params))
        if gsm7_length(text) <= budget:
            return text, False
    return _cut(text, budget), True


def render_sms(
    replies: Sequence[Reply], catalogs: Catalogs, language: str, tz: tzinfo
) -> list[str]:
    """One GSM-7 string per reply: ≤ 160 septets, ≤ 306 when it lists choices."""
    writer = _Writer(catalogs, language, tz, "sms")
    return [sms_text(reply, writer)[0] for reply in replies]


def render_telegram(
    replies: Sequence[Reply], catalogs: Catalogs, language: str, tz: tzinfo
) -> list[TelegramMessage]:
    """One message per reply, original characters, a keyboard button per choice."""
    writer = _Writer(catalogs, language, tz, "telegram")
    messages = []
    for reply in replies:
        numbered = [c for c in reply.choices if c.request is None]
        params = [dict(reply.params), *(dict(c.params) for c in numbered)]
        text = writer.compose(reply, numbered, params)
        buttons = [Button(writer.choice(c, c.params), c.request) for c in reply.choices]
        keyboard = tuple((button,) for button in buttons) or None
        messages.append(TelegramMessage(text, keyboard))
    return messages
