"""One reading of every message, in every state: what the person asks and what they name.

`interpret(text, lexicon, today)` rewrites SMS spelling ("jveu", "c ou", "dem1"), splits
glued words ("dordinateur", "menvoyer"), then matches the lexicon's phrases, longest first.
What it finds: the intents (`intent.*` meanings, plus ack and greeting), a numbered choice,
a topic, a day window, "near me", and the words that may name a place (resolved later
against the directory, see `place_candidates`). Pure and fast: a dictionary walk over at most
60 words, one fuzzy match per unknown word (see `passnum bench`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz, process

from flows.lexicon import Lexicon
from flows.optout import opt_out_intent
from flows.understand import normalize, parse_number
from flows.when import When, explicit_date, window

__all__ = ["INTENT_ORDER", "Heard", "interpret"]

MAX_WORDS = 60
# Ties between intents go to the first: the most specific, or the least harmful.
INTENT_ORDER = (
    "cant_come",
    "cancel",
    "language",
    "channel",
    "reminders",
    "when",
    "human",
    "help",
    "find",
    "where",
    "bookings",
    "balance",
    "coming",
)
_SMALL = ("yes", "no", "more", "back", "menu")
_POSTCODE = re.compile(r"^\d{5}$")
_EMOJI_ONLY = re.compile(r"^[\W_]+$")


@dataclass(frozen=True)
class Heard:
    """What a message says. `meanings` counts the lexicon meanings found
    (`{"intent.find": 1, "topic.ordinateur": 1}`); `rest` holds words with no meaning."""

    text: str
    norm: str
    words: tuple[str, ...] = ()
    meanings: dict[str, int] = field(default_factory=dict)
    number: int | None = None
    rest: tuple[str, ...] = ()
    place_words: tuple[tuple[str, ...], ...] = ()
    topic: str | None = None
    when: When | None = None
    near_me: bool = False
    language: str | None = None
    opt_out: str | None = None
    symbols_only: bool = False

    def has(self, meaning: str) -> bool:
        return meaning in self.meanings

    @property
    def intent(self) -> str | None:
        """The main request, if any: the intent with most hits, ties in INTENT_ORDER."""
        found = [i for i in INTENT_ORDER if self.has(f"intent.{i}")]
        if not found and self.topic and not self.has("intent.no"):
            return "find"  # "un cours de telephone": a topic alone asks for a session
        if not found:
            return None
        if "find" in found or self.topic or self.when:
            self.meanings.setdefault("intent.find", 0)
        scores = {i: self.meanings.get(f"intent.{i}", 0) for i in found}
        if self.topic or self.when or self.place_words:
            scores["find"] = scores.get("find", 0) + 1 if "find" in scores else 0
        return max(scores, key=lambda i: (scores[i], -INTENT_ORDER.index(i)))

    @property
    def small(self) -> str | None:
        """yes / no / more / back / menu, when the message is only that."""
        if self.rest or self.topic or self.when or self.near_me:
            return None
        kinds = [k for k in _SMALL if self.has(f"intent.{k}")]
        big = [i for i in INTENT_ORDER if self.has(f"intent.{i}")]
        return kinds[0] if len(kinds) == 1 and not big else None

    @property
    def ack(self) -> bool:
        """Thanks, ok, an emoji: nothing asked, nothing named."""
        if self.symbols_only:
            return True
        if not self.has("ack") or self.rest or self.topic or self.when or self.number:
            return False
        asks = [i for i in INTENT_ORDER if self.has(f"intent.{i}") and i != "coming"]
        return not asks and not self.has("intent.no") and not self.has("intent.more")

    @property
    def greeting(self) -> bool:
        """Only a greeting (and politeness): "bonjour", "slt", "hello madame"."""
        if not self.has("greeting") or self.rest or self.topic or self.when:
            return False
        return self.intent is None and self.number is None and self.small is None


def _rewrite(word: str, lexicon: Lexicon) -> tuple[str, ...]:
    """SMS spelling, then a missing apostrophe or space."""
    if word in lexicon.spelling:
        return lexicon.spelling[word]
    if word in lexicon.vocabulary or word.isdigit():
        return (word,)
    for prefix in lexicon.elisions:
        tail = word[len(prefix) :]
        if word.startswith(prefix) and len(tail) >= 4:
            if tail in lexicon.vocabulary:
                return (prefix, tail)
            if tail in lexicon.spelling:
                return (prefix, *lexicon.spelling[tail])
    if len(word) >= 7:
        for cut in range(3, len(word) - 2):
            head, tail = word[:cut], word[cut:]
            if head in lexicon.vocabulary and tail in lexicon.vocabulary:
                return (head, tail)
    return (word,)


def _words(norm: str, lexicon: Lexicon) -> list[str]:
    out: list[str] = []
    for word in norm.replace("'", " ").split()[:MAX_WORDS]:
        out.extend(_rewrite(word, lexicon))
    return out


MEMO_SIZE = 20_000


def _typo(word: str, lexicon: Lexicon) -> frozenset[str]:
    if len(word) < 5 or not lexicon.typo_words or any(c.isdigit() for c in word):
        return frozenset()
    if word in lexicon.typo_memo:
        return lexicon.typo_memo[word]
    found = _closest(word, lexicon)
    if len(lexicon.typo_memo) < MEMO_SIZE:
        lexicon.typo_memo[word] = found
    return found


def _closest(word: str, lexicon: Lexicon) -> frozenset[str]:
    cutoff = 85 if len(word) < 7 else 80
    found = process.extractOne(
        word, lexicon.typo_words.keys(), scorer=fuzz.ratio, score_cutoff=cutoff
    )
    return lexicon.typo_words[found[0]] if found else frozenset()


@dataclass
class _Reading:
    """The walk over the words: one list of meanings per position (empty: unknown)."""

    spans: list[tuple[int, int, frozenset[str]]] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)


def _read(words: list[str], lexicon: Lexicon) -> _Reading:
    reading = _Reading()
    index = 0
    while index < len(words):
        for size in range(min(lexicon.longest, len(words) - index), 0, -1):
            meanings = lexicon.meanings(tuple(words[index : index + size]))
            if meanings:
                reading.spans.append((index, size, meanings))
                index += size
                break
        else:
            typo = _typo(words[index], lexicon)
            if words[index].isdigit() and not _POSTCODE.match(words[index]):
                pass  # a number, never a place
            elif typo:
                reading.spans.append((index, 1, typo))
            else:
                reading.unknown.append(index)
            index += 1
    return reading


_STOPS_PLACE = ("intent.", "topic.", "day.", "part.", "near_me", "month.", "ack", "greeting")


def _place_words(words: list[str], reading: _Reading) -> tuple[tuple[str, ...], ...]:
    """Word runs that may name a place: after a place preposition, then unknown runs."""
    kind: dict[int, frozenset[str]] = {}
    for start, size, meanings in reading.spans:
        for offset in range(size):
            kind[start + offset] = meanings
    candidates: list[tuple[str, ...]] = []
    run: list[str] = []
    for index, word in enumerate(words):
        meanings = kind.get(index, frozenset())
        stops = any(m.startswith(_STOPS_PLACE) for m in meanings) and not _POSTCODE.match(word)
        if index in reading.unknown or _POSTCODE.match(word) or (run and not stops):
            run.append(word)
            continue
        if run:
            candidates.append(tuple(run))
        run = []
    if run:
        candidates.append(tuple(run))
    trimmed = [_trim(c, kind_words=set(words[i] for i in reading.unknown)) for c in candidates]
    return tuple(c for c in trimmed if c)


def _trim(run: tuple[str, ...], kind_words: set[str]) -> tuple[str, ...]:
    """Drops filler words at both ends of a run ("a fontaine svp" → "fontaine")."""
    words = list(run)
    while words and words[0] not in kind_words and not _POSTCODE.match(words[0]):
        words.pop(0)
    while words and words[-1] not in kind_words and not _POSTCODE.match(words[-1]):
        words.pop()
    return tuple(words)


def _language(words: list[str], lexicon: Lexicon) -> str | None:
    counts: dict[str, int] = {}
    for word in words:
        for meaning in lexicon.meanings((word,)):
            if meaning.startswith("lang."):
                counts[meaning[5:]] = counts.get(meaning[5:], 0) + 1
    if not counts:
        return None
    best = max(counts.values())
    winners = [code for code, n in counts.items() if n == best]
    return winners[0] if len(winners) == 1 else None


def interpret(text: str, lexicon: Lexicon, today: date) -> Heard:
    """Reads one message (see the module docstring)."""
    norm = normalize(text)
    if not norm:
        stripped = text.strip()
        symbols = bool(_EMOJI_ONLY.match(stripped)) and any(ord(c) > 0x2000 for c in stripped)
        return Heard(text, norm, symbols_only=symbols, opt_out=opt_out_intent(text))
    words = _words(norm, lexicon)
    reading = _read(words, lexicon)
    meanings: dict[str, int] = {}
    for _, _, found in reading.spans:
        for meaning in found:
            meanings[meaning] = meanings.get(meaning, 0) + 1
    ordered = [m for _, _, found in reading.spans for m in sorted(found)]
    topics = [m.removeprefix("topic.") for m in ordered if m.startswith("topic.")]
    months = {
        start: int(m.split(".")[1])
        for start, _, found in reading.spans
        for m in found
        if m.startswith("month.")
    }
    on = explicit_date(text.lower(), words, months, today)
    days = [m for m in ordered if m.startswith("day.")]
    parts = [m for m in ordered if m.startswith("part.")]
    return Heard(
        text=text,
        norm=norm,
        words=tuple(words),
        meanings=meanings,
        number=None if on else _number(norm, words, meanings, reading),
        rest=tuple(words[i] for i in reading.unknown),
        place_words=_place_words(words, reading),
        topic=topics[0] if topics else None,
        when=window(days, parts, on, today),
        near_me="near_me" in meanings,
        language=_language(words, lexicon),
        opt_out=opt_out_intent(text),
    )


def _number(norm: str, words: list[str], meanings: dict[str, int], reading: _Reading) -> int | None:
    """A numbered choice: digits with junk ("n°3", "2."), or one number word and fillers."""
    found = parse_number(norm)
    if found is not None:
        return found
    numbers = {m for m in meanings if m.startswith("number.")}
    others = {m for m in meanings if not m.startswith("number.") and m != "filler"}
    if len(numbers) == 1 and not reading.unknown and not (others - {"prep", "lang.fr", "lang.en"}):
        return int(numbers.pop().split(".")[1])
    return None
