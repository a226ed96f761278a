"""The words people use, as data: SMS spelling and the phrases of each meaning.

The lexicon files live in config/lexicon/<language>.json; bot/ loads them and hands the
merged `Lexicon` to the flows in `FlowSettings.lexicon` (flows/ reads no files). All
languages are merged into one lexicon: people mix them ("ok merci", "cancel mon rdv"),
and an unknown sender's language is guessed from the `lang.*` markers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flows.understand import normalize

__all__ = ["EMPTY_LEXICON", "Lexicon", "build_lexicon"]


@dataclass(frozen=True)
class Lexicon:
    """Spelling rewrites, and an index of phrases (tuples of words) to their meanings."""

    spelling: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: Mapping[tuple[str, ...], frozenset[str]] = field(default_factory=dict)
    longest: int = 1
    elisions: tuple[str, ...] = ()
    vocabulary: frozenset[str] = frozenset()
    # single words of the meanings worth a typo match (intents, topics, days), by word
    typo_words: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # typo matches already computed: the same few misspellings come back all day
    typo_memo: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)

    def meanings(self, phrase: tuple[str, ...]) -> frozenset[str]:
        return self.phrases.get(phrase, frozenset())


EMPTY_LEXICON = Lexicon()
_TYPO_PREFIXES = ("intent.", "topic.")  # day words: typos are in the spelling table
_NO_TYPO = {"intent.where", "intent.no", "intent.yes", "intent.more"}


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(normalize(text.replace("'", " ")).split())


def build_lexicon(sources: Iterable[Mapping[str, Any]]) -> Lexicon:
    """One lexicon from the per-language files, the first one winning on spelling."""
    spelling: dict[str, tuple[str, ...]] = {}
    phrases: dict[tuple[str, ...], set[str]] = {}
    elisions: list[str] = []
    for source in sources:
        for typed, plain in dict(source.get("spelling", {})).items():
            key = " ".join(_phrase(typed))
            if key and key not in spelling:
                spelling[key] = _phrase(plain)
        for meaning, words in dict(source.get("words", {})).items():
            for words_text in words:
                phrase = _phrase(words_text)
                if phrase:
                    phrases.setdefault(phrase, set()).add(meaning)
        elisions += [e for e in source.get("elisions", []) if e not in elisions]
    vocabulary = frozenset(word for phrase in phrases for word in phrase)
    typo: dict[str, set[str]] = {}
    for phrase, meanings in phrases.items():
        kept = {m for m in meanings if m.startswith(_TYPO_PREFIXES) and m not in _NO_TYPO}
        if len(phrase) == 1 and len(phrase[0]) >= 5 and kept:
            typo.setdefault(phrase[0], set()).update(kept)
    return Lexicon(
        spelling=spelling,
        phrases={phrase: frozenset(m) for phrase, m in phrases.items()},
        longest=max((len(p) for p in phrases), default=1),
        elisions=tuple(sorted(elisions, key=len, reverse=True)),
        vocabulary=vocabulary,
        typo_words={word: frozenset(m) for word, m in typo.items()},
    )
