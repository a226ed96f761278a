"""The GSM-7 alphabet: transliteration for the SMS channel, lengths and segment counts.

A single character outside GSM-7 makes the whole SMS fall back to UCS-2 (70 characters a
segment), so everything we send by SMS goes through `to_gsm7` first.
"""

from __future__ import annotations

import math
import unicodedata

__all__ = ["gsm7_length", "is_gsm7", "sms_segments", "to_gsm7"]

# The basic table, without ESC (0x1B) and CR, which we never send.
BASIC = set(
    "@£$¥èéùìòÇ\nØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these costs two septets (ESC + the character).
EXTENSION = set("^{}\\[~]|€")

# Common French and typographic characters, mapped to what a reader expects. NFKD does the rest.
_SINGLE = dict(zip("êëâîïôûçáíóúãõÿÀÂÈÊËÎÏÔÙÛŸ", "eeaiioucaiouaoyAAEEEIIOUUY", strict=True))
_QUOTES = {**dict.fromkeys("’‘‛′`´‹›", "'"), **dict.fromkeys("“”„«»", '"'), "‚": ","}
_DASHES = dict.fromkeys("–—‑‐−•", "-")
_SPACES = dict.fromkeys("\u00a0\u202f\u2009\u2007\u2002\u2003\t", " ")
_GONE = dict.fromkeys("\r\u200b\ufeff", "")
_OTHER = {"œ": "oe", "Œ": "OE", "…": "...", "·": ".", "°": "o", "º": "o", "ª": "a", "×": "x"}
_TABLE = {**_SINGLE, **_QUOTES, **_DASHES, **_SPACES, **_GONE, **_OTHER, "÷": "/"}


def _one(char: str) -> str:
    if char in BASIC or char in EXTENSION:
        return char
    if char in _TABLE:
        return _TABLE[char]
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if c in BASIC or c in EXTENSION)


_GSM7 = frozenset(BASIC | EXTENSION)
_REMEMBERED = 4096  # distinct characters whose transliteration is kept


class _Transliteration(dict[int, str]):
    """`str.translate`'s table, filled on first sight of each character (`_one`)."""

    def __missing__(self, code: int) -> str:
        converted = _one(chr(code))
        if len(self) < _REMEMBERED:
            self[code] = converted
        return converted


_TRANSLITERATION = _Transliteration()


def to_gsm7(text: str) -> str:
    """The text with every character outside GSM-7 transliterated or dropped (emoji)."""
    # Every SMS reply goes through here several times (flows.render): a text already in
    # GSM-7 is checked as a set, the others translated in C with the characters' table.
    converted = text if _GSM7.issuperset(text) else text.translate(_TRANSLITERATION)
    # Dropped emoji leave double spaces behind; tidy each line.
    return "\n".join(" ".join(line.split()) for line in converted.split("\n"))


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 basic or extension table."""
    return _GSM7.issuperset(text)


def gsm7_length(text: str) -> int:
    """Septets the text takes in GSM-7: extension characters (€ [ ] …) count two."""
    return len(text) + sum(text.count(char) for char in EXTENSION)


def sms_segments(text: str) -> int:
    """SMS parts needed: GSM-7 160 / 153 per part; otherwise UCS-2 70 / 67."""
    if not text:
        return 0
    if is_gsm7(text):
        length, single, part = gsm7_length(text), 160, 153
    else:
        length, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else math.ceil(length / part)
