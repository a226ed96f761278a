"""Replies as spoken sentences, for the voice line (Twilio `<Say>` / `<Gather>`), pure.

The same replies as SMS and Telegram, read with the `*.voice` catalog texts where the SMS one
does not read well aloud ("Répondez 1 à 5 :", "0 = menu", abbreviations). Numbers and dates
are said naturally: `fmt.*.voice` gives "mardi 3 décembre à 14 heures 30"; a distance under a
kilometre is said in metres ("à 700 mètres"); a phone number digit pair by digit pair.

Choices are said as "Pour vos chèques, tapez 1." with at most `PAGE_SIZE` a prompt: more are
on further pages, reached with the `#` key. Every prompt ends with how to hear it again (`*`)
and, for a choice, how to reach the menu (0). A turn is plain data (`VoiceTurn.to_json`), so
the edge can store it and say it again or page on without running the flows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from flows.render import Catalogs, _format, _Writer
from flows.types import Choice, Reply, Text

__all__ = [
    "ENTRY_KEYS",
    "HANGUP_KEYS",
    "PAGE_SIZE",
    "RECORD_KEYS",
    "VOICES",
    "Listen",
    "Spoken",
    "VoiceTurn",
    "call_words",
    "reminder_reply",
    "render_voice",
    "spoken_words",
]

PAGE_SIZE = 4  # choices said in one prompt; "#" says the next ones
VOICES = {"fr": "fr-FR", "en": "en-GB"}  # the <Say>/<Gather> language of each catalog

# What the last reply waits for. Entry: digits ended by "#", or speech (a booklet number, a
# code, a commune or a postcode). Record: a spoken message for staff. Hang-up: nothing more.
ENTRY_KEYS = frozenset(
    {
        "identity.welcome",
        "identity.ask_booklet",
        "identity.ask_booklet_again",
        "identity.ask_code",
        "identity.ask_code_again",
        "identity.wrong",
        "identity.bad_link",
        "identity.contact_unknown",
        "identity.contact_not_own",
        "find.ask_place",
        "find.place_unknown",
    }
)
RECORD_KEYS = frozenset({"help.ask_message"})
HANGUP_KEYS = frozenset(
    {
        "optout.done",
        "voice.opted_out",
        "voice.hidden_number",
        "identity.locked",
        "voice.goodbye",
        "ack.coming",
    }
)


class Listen:
    """How the call listens after a prompt (a string, stored as JSON)."""

    CHOICE = "choice"  # one key, or a spoken answer
    ENTRY = "entry"  # keys ended by "#", or a spoken answer
    RECORD = "record"
    HANGUP = "hangup"


@dataclass(frozen=True)
class Spoken:
    """One sentence and the voice that says it. `{"text": "Pour vos chèques, tapez 1.",
    "language": "fr-FR"}`"""

    text: str
    language: str


@dataclass(frozen=True)
class VoiceTurn:
    """What a call says for one turn: `said` (the news), then `pages` of the question with
    its choices (page 0 first; `#` moves on), and how it listens. `language` is the voice
    of the question and of speech recognition."""

    said: tuple[Spoken, ...]
    pages: tuple[tuple[Spoken, ...], ...]
    listen: str
    language: str

    def speech(self, page: int = 0) -> list[Spoken]:
        """Everything said for this page: the news on the first page only."""
        page = page % len(self.pages) if self.pages else 0
        shown = list(self.pages[page]) if self.pages else []
        return [*self.said, *shown] if page == 0 else shown

    def to_json(self) -> str:
        def spoken(items: Sequence[Spoken]) -> list[list[str]]:
            return [[item.text, item.language] for item in items]

        return json.dumps(
            {
                "said": spoken(self.said),
                "pages": [spoken(page) for page in self.pages],
                "listen": self.listen,
                "language": self.language,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> VoiceTurn:
        data = json.loads(text)

        def spoken(items: list[list[str]]) -> tuple[Spoken, ...]:
            return tuple(Spoken(str(t), str(lang)) for t, lang in items)

        return cls(
            said=spoken(data["said"]),
            pages=tuple(spoken(page) for page in data["pages"]),
            listen=str(data["listen"]),
            language=str(data["language"]),
        )


def spoken_words(items: Sequence[Spoken]) -> int:
    """Words said (for the length rule: 25 seconds at 150 words a minute)."""
    return sum(len(re.findall(r"[\w'’-]+", item.text)) for item in items)


_ABBREVIATED_HOURS = re.compile(r"(\d{1,2})h(\d{2})?")


class _VoiceWriter(_Writer):
    """Fills catalog texts for the ear: `*.voice` texts first, values said in words."""

    def __init__(self, catalogs: Catalogs, language: str, tz: tzinfo) -> None:
        super().__init__(catalogs, language, tz, "voice")

    def value(self, name: str, value: Any) -> str:
        if value is None:
            return ""
        if name.endswith("phone"):
            return self.phone(str(value))
        if name.endswith("_km"):
            return self.distance(float(value))
        if name == "hours":
            return self.hours(str(value))
        return super().value(name, value)

    def time(self, local: datetime) -> str:
        key = "fmt.time" if local.minute == 0 else "fmt.time_minutes"
        parts = {
            "hour": local.hour,
            "hour12": local.hour % 12 or 12,
            "minute": f"{local.minute:02d}",
            "minutes": local.minute,
            "ampm": self.template("fmt.pm" if local.hour >= 12 else "fmt.am"),
        }
        return _format(self.template(key), parts)

    def distance(self, km: float) -> str:
        """0.7 → "700 mètres"; 3.2 → "3,2 kilomètres"; under 100 m → "moins de 100 mètres"."""
        if km < 0.1:
            return self.template("fmt.distance_near")
        if km < 1:
            return _format(self.template("fmt.metres"), {"metres": round(km * 10) * 100})
        places = 0 if km >= 10 or round(km, 1).is_integer() else 1
        if round(km, places) == 1:
            return self.template("fmt.kilometre_one")
        return _format(self.template("fmt.kilometres"), {"km": self.decimal(km, places)})

    def phone(self, number: str) -> str:
        """'04 76 00 00 07' or '+33476000007' → "0 4, 76, 0 0, 0 0, 0 7": pairs, slowly."""
        digits = re.sub(r"\D", "", number)
        if number.strip().startswith("+33") and digits.startswith("33"):
            digits = "0" + digits[2:]
        pairs = [digits[i : i + 2] for i in range(0, len(digits), 2)]
        said = [" ".join(pair) if pair.startswith("0") else pair for pair in pairs]
        return ", ".join(said)

    def hours(self, text: str) -> str:
        """'lun.-ven. 9h-12h' → 'lundi au vendredi, 9 heures à 12 heures'."""
        for number in range(7):  # the hours are written in French: any language's short days
            for catalog in self.catalogs.values():
                short = catalog.get(f"fmt.weekday.{number}", "")
                if len(short) > 2 and short in text:
                    text = text.replace(short, self.template(f"fmt.weekday.{number}"))
        text = _ABBREVIATED_HOURS.sub(
            lambda m: _format(
                self.template("fmt.hours_said"), {"hour": m.group(1), "minute": m.group(2) or ""}
            ).strip(),
            text,
        )
        return text.replace("-", self.template("fmt.until")).replace("  ", " ")


def _sentences(text: str) -> str:
    """An SMS text (lines) as one spoken paragraph."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return " ".join(line if line[-1] in ".?!:" else line + "." for line in lines)


def _listen(key: str) -> str:
    if key in HANGUP_KEYS:
        return Listen.HANGUP
    if key in RECORD_KEYS:
        return Listen.RECORD
    if key in ENTRY_KEYS:
        return Listen.ENTRY
    return Listen.CHOICE


def _choice(writer: _VoiceWriter, choice: Choice) -> Spoken:
    language = str(choice.params.get("_language") or writer.language)
    own = _VoiceWriter(writer.catalogs, language, writer.tz)
    label = own.fill(choice.key, choice.params)
    text = _format(own.template("fmt.choice"), {"number": choice.number, "label": label})
    return Spoken(text, VOICES.get(language, VOICES["fr"]))


def _pages(
    writer: _VoiceWriter, reply: Reply, listen: str, size: int = PAGE_SIZE
) -> tuple[tuple[Spoken, ...], ...]:
    """The question's choices, `size` a page (at most `PAGE_SIZE`), each with how to go on."""
    voice = VOICES.get(writer.language, VOICES["fr"])
    choices = [_choice(writer, c) for c in reply.choices if c.request is None]
    chunks = [choices[i : i + size] for i in range(0, len(choices), size)] or [[]]
    keys = {Listen.CHOICE: "voice.keys", Listen.ENTRY: "voice.repeat"}
    ending = [Spoken(writer.template(keys[listen]), voice)] if listen in keys else []
    more = Spoken(writer.template("voice.more"), voice)
    return tuple(
        tuple([*chunk, *([more] if i + 1 < len(chunks) else []), *ending])
        for i, chunk in enumerate(chunks)
    )


def _said(writer: _VoiceWriter, reply: Reply) -> Spoken:
    params: dict[str, Any] = dict(reply.params)
    text = _sentences(writer.fill(reply.key, params))
    footer = params.get("_footer")
    if footer:
        tail = _sentences(writer.fill(str(footer), params))
        text = f"{text} {tail}".strip()
    return Spoken(text, VOICES.get(writer.language, VOICES["fr"]))


MAX_WORDS = 60  # 25 seconds of speech at 150 words a minute, with a margin
_WORD_CAPS = (None, 6, 4, 3, 2)  # long names are said shorter, in turn, until a prompt fits


def _short(params: dict[str, Any], cap: int | None) -> dict[str, Any]:
    """Long names and addresses said with their first `cap` words; numbers never cut."""
    if cap is None:
        return params

    def cut(name: str, value: Any) -> Any:
        if not isinstance(value, str) or name.startswith("_") or name in ("phone", "hours"):
            return value
        return " ".join(value.split()[:cap])

    return {name: cut(name, value) for name, value in params.items()}


def _fits(turn: VoiceTurn) -> bool:
    return all(spoken_words(turn.speech(page)) <= MAX_WORDS for page in range(len(turn.pages)))


def render_voice(
    replies: Sequence[Reply],
    catalogs: Catalogs,
    language: str,
    tz: tzinfo,
) -> VoiceTurn:
    """The turn as a call says it; the last reply's choices make the question. Long names
    are said shorter until every prompt fits `MAX_WORDS`."""
    turn = _render(replies, catalogs, language, tz, PAGE_SIZE)
    for cap in _WORD_CAPS:  # fewer choices a page first, then shorter names
        shorter = [
            Reply(
                r.key,
                _short(dict(r.params), cap),
                tuple(Choice(c.number, c.key, _short(dict(c.params), cap), c.request)
                      for c in r.choices),
            )
            for r in replies
        ]  # fmt: skip
        for size in range(PAGE_SIZE, 1, -1):
            if _fits(turn):
                return turn
            turn = _render(shorter, catalogs, language, tz, size)
    return turn


def _render(
    replies: Sequence[Reply], catalogs: Catalogs, language: str, tz: tzinfo, size: int
) -> VoiceTurn:
    writer = _VoiceWriter(catalogs, language, tz)
    voice = VOICES.get(language, VOICES["fr"])
    said = [_said(writer, reply) for reply in replies]
    said = [s for s in said if s.text]
    last = replies[-1] if replies else Reply("voice.nothing")
    listen = _listen(last.key)
    if not replies:
        said = [Spoken(writer.template("voice.nothing"), voice)]
    return VoiceTurn(tuple(said), _pages(writer, last, listen, size), listen, voice)


# Reminders about one booking offer keys that act on it (the answer goes through the flows
# as the words below, read with the booking our call spoke of: see flows.cancel).
BOOKING_REMINDERS = frozenset({"reminder.day_before", "reminder.two_hours", "reminder.slot_moved"})
REMINDER_KEYS = {"1": "je viendrai", "2": "annuler"}


def reminder_reply(key: str, params: dict[str, Any]) -> Reply:
    """A reminder as a call says it: about a booking, "1 to confirm, 2 to cancel"."""
    if key not in BOOKING_REMINDERS:
        return Reply(key, params)
    choices = (Choice(1, "voice.reminder_confirm"), Choice(2, "voice.reminder_cancel"))
    return Reply(key, params, choices)


def call_words(digits: str, speech: str, *, after_reminder: bool = False) -> Text:
    """What the caller keyed (first) or said, as the flows read a message. Keys answering a
    reminder call mean "I will come" (1) and "cancel" (2)."""
    keyed = digits.strip()
    if after_reminder and keyed in REMINDER_KEYS:
        return Text(REMINDER_KEYS[keyed])
    return Text(keyed or speech.strip())
