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
from functools import cached_property, lru_cache

from rapidfuzz import fuzz, process

from flows.lexicon import Lexicon
from flows.optout import opt_out_of
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
    "message",
    "confused",  # "c'est quoi ?", "je comprends pas": help, unless something else is asked
)
_SMALL = ("yes", "no", "more", "back", "menu")
_POSTCODE = re.compile(r"^\d{5}$")
_EMOJI_ONLY = re.compile(r"^[\W_]+$")
_CONTRACTION = re.compile(r"(\w)'(t|ll|m|re|ve|d)\b")
_SPLIT_POSTCODE = re.compile(r"\b(\d{2}) (\d{3})\b")  # "38 000", as dictated or typed
# What may go with a numbered choice: "je prends le 1", "le premier svp", "oui le 2 merci".
_AROUND_NUMBER = frozenset({"filler", "prep", "lang.fr", "lang.en", "ack", "thanks", "intent.yes"})


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
    place_said: bool = False  # a run comes after "à", "sur", "vers"… or holds a postcode
    lead: frozenset[str] = frozenset()  # the meanings of the first words ("non, pas ce jour")
    topic: str | None = None
    when: When | None = None
    near_me: bool = False
    language: str | None = None
    opt_out: str | None = None
    symbols_only: bool = False

    def has(self, meaning: str) -> bool:
        return meaning in self.meanings

    @cached_property
    def intent(self) -> str | None:
        """The main request, if any: the intent with most hits, ties in INTENT_ORDER.
        A topic, a day or a place named counts for "find"; a topic alone asks for a session."""
        scores = {i: self.meanings[f"intent.{i}"] for i in INTENT_ORDER if f"intent.{i}" in self}
        if not scores:
            return "find" if self.topic and "intent.no" not in self else None
        if "find" in scores and (self.topic or self.when or self.place_words):
            scores["find"] += 1
        if self.topic and set(scores) <= {"help", "confused"}:
            return "find"  # "besoin d'aide pour ma déclaration d'impôts": a workshop on it
        return max(scores, key=lambda i: (scores[i], -INTENT_ORDER.index(i)))

    def __contains__(self, meaning: str) -> bool:
        return meaning in self.meanings

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
        if not (self.has("ack") or self.has("thanks")) or self.rest or self.topic or self.when:
            return False
        if self.number:
            return False
        asks = [i for i in INTENT_ORDER if self.has(f"intent.{i}") and i != "coming"]
        return not asks and not self.has("intent.no") and not self.has("intent.more")

    @property
    def greeting(self) -> bool:
        """Only a greeting (and politeness): "bonjour", "slt", "hello madame"."""
        if not self.has("greeting") or len(self.rest) > 2 or self.topic or self.when:
            return False  # "bonjour c'est Fatou": a name or two may follow
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
    norm = _CONTRACTION.sub(r"\1\2", norm)  # "can't", "i'll", "won't" as "cant", "ill", "wont"
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


# Words that may sit inside a place name ("Saint-Martin-d'Hères", "Le Pont-de-Claix"); any
# other known word ends a run ("je suis a grenoble mais je peux aller a echirolles").
_PLACE_JOINERS = frozenset(
    {"de", "d", "du", "des", "le", "la", "les", "l", "sur", "en", "saint", "sainte", "et", "sous"}
)
_STOPS_PLACE = ("intent.", "topic.", "day.", "part.", "near_me", "month.", "ack", "greeting")


@lru_cache(maxsize=4096)
def _ends_place(meanings: frozenset[str]) -> bool:
    """The lexicon has a few hundred distinct meaning sets: each is checked once."""
    return any(m.startswith(_STOPS_PLACE) for m in meanings)


def _place_words(words: list[str], reading: _Reading) -> tuple[tuple[tuple[str, ...], ...], bool]:
    """Word runs that may name a place (unknown words and the words joining them), and
    whether one was said as a place: after "à", "sur", "vers"…, or with a postcode."""
    kind: dict[int, frozenset[str]] = {}
    for start, size, meanings in reading.spans:
        for offset in range(size):
            kind[start + offset] = meanings
    candidates: list[tuple[str, ...]] = []
    run: list[str] = []
    said = False
    for index, word in enumerate(words):
        meanings = kind.get(index, frozenset())
        stops = meanings and word not in _PLACE_JOINERS or _ends_place(meanings)
        stops = stops and not _POSTCODE.match(word)
        if index in reading.unknown or _POSTCODE.match(word) or (run and not stops):
            said = said or bool(_POSTCODE.match(word))
            if not run and index > 0 and "prep" in kind.get(index - 1, frozenset()):
                said = True
            run.append(word)
            continue
        if run:
            candidates.append(tuple(run))
        run = []
    if run:
        candidates.append(tuple(run))
    trimmed = [_trim(c, kind_words=set(words[i] for i in reading.unknown)) for c in candidates]
    return tuple(c for c in trimmed if c), said


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
        return Heard(text, norm, symbols_only=symbols)
    words = _words(_SPLIT_POSTCODE.sub(r"\1\2", norm), lexicon)
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
    place_words, place_said = _place_words(words, reading)
    parts = [m for m in ordered if m.startswith("part.")]
    return Heard(
        text=text,
        norm=norm,
        words=tuple(words),
        meanings=meanings,
        number=None if on else _number(norm, words, meanings, reading),
        rest=tuple(words[i] for i in reading.unknown),
        place_words=place_words,
        place_said=place_said,
        lead=reading.spans[0][2] if reading.spans and reading.spans[0][0] == 0 else frozenset(),
        topic=topics[0] if topics else None,
        when=window(days, parts, on, today),
        near_me="near_me" in meanings,
        language=_language(words, lexicon),
        opt_out=opt_out_of(norm),
    )


def _number(norm: str, words: list[str], meanings: dict[str, int], reading: _Reading) -> int | None:
    """A numbered choice: digits with junk ("n°3", "2."), or one number word and fillers."""
    found = parse_number(norm)
    if found is not None:
        return found
    numbers = {int(m.split(".")[1]) for m in meanings if m.startswith("number.")}
    numbers |= {int(w) for w in words if w.isdigit() and len(w) <= 2}
    others = {m for m in meanings if not m.startswith("number.")} - _AROUND_NUMBER
    if len(numbers) == 1 and not reading.unknown and not others:
        return numbers.pop()
    return None
