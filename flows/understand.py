"""Understanding what a person typed: numbers with junk, number words, yes/no, global words
and free-text intents. Everything works on `normalize(text)`: lower case, no accents."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum

from rapidfuzz import fuzz, process

__all__ = [
    "Global",
    "Intent",
    "detect_intent",
    "global_word",
    "is_more",
    "match_label",
    "normalize",
    "parse_number",
    "parse_yes_no",
]

# Nobody chooses from a menu with more than this; a 1,600-character SMS is read only this far.
MAX_READ = 300


def _words(text: str) -> set[str]:
    return set(text.split())


class Global(StrEnum):
    MENU = "menu"
    HELP = "help"
    STOP = "stop"
    START = "start"
    LANGUAGE = "language"


class Intent(StrEnum):
    CANCEL = "cancel"
    BOOKINGS = "bookings"
    FIND = "find"
    BALANCE = "balance"
    CHANNEL = "channel"  # before REMINDERS: "rappels par sms" is about the channel
    REMINDERS = "reminders"
    HELP = "help"
    LANGUAGE = "language"


_GLOBALS = {
    Global.MENU: {"menu", "0", "00", "menu principal", "main menu", "accueil", "home"},
    Global.HELP: {"aide", "help", "au secours", "sos", "a l'aide"},
    Global.STOP: {
        *_words("stop stopsms stopall arret arreter desabonner desabonnement unsubscribe"),
        *("stop sms", "stop all", "arret sms", "se desabonner"),
    },
    Global.START: {"start", "marche", "unstop", "start sms"},
    Global.LANGUAGE: {"langue", "language", "lang", "langage"},
}
_POLITE = _words("svp stp merci please thanks plait s'il vous te")

_NUMBER_WORDS = {
    1: "un une premier premiere 1er 1ere one first",
    2: "deux deuxieme second seconde two",
    3: "trois troisieme three third",
    4: "quatre quatrieme four fourth",
    5: "cinq cinquieme five fifth",
    6: "six sixieme sixth",
    7: "sept septieme seven seventh",
    8: "huit huitieme eight eighth",
    9: "neuf neuvieme nine ninth",
    10: "dix dixieme ten tenth",
}
_WORD_VALUE = {word: n for n, words in _NUMBER_WORDS.items() for word in words.split()}
_FILLERS = {
    *_words("le la l' l the numero number no n° choix option one c'est cest je prends"),
    *_words("choisis take"),
    *_POLITE,
}
_DIGITS = re.compile(
    r"^(?:(?:n ?°|n[o.]?|num(?:ero)?|number|le|la|l'|choix|option|#|the)\s*)?"
    r"(\d{1,6})(?:er|ere|eme|e|nd|st|rd|th)?(?:\b|$)"
)

_YES = _words(
    "oui o ok okay okey d'accord daccord dac dacc ouais ouai ouaip yes y yeah yep yup si sure "
    "confirme confirmer valider valide parfait volontiers"
)
_YES_PHRASES = {"bien sur", "tout a fait", "c'est bon", "je confirme", "of course", "d accord"}
_NO = {"non", "n", "no", "nope", "nan", "nah", "pas", "jamais", "never"}
_MORE = _words("plus more suivant suivants suite autres autre next encore others other")

_KEYWORDS = {
    Intent.CANCEL: "annuler annule annulation decommander desinscrire cancel",
    Intent.BOOKINGS: "rdv rendez reservations bookings appointment appointments inscriptions",
    Intent.FIND: "atelier ateliers reserver reservation seance seances formation formations "
    "cours trouver inscrire book booking session sessions workshop workshops find slot slots "
    "class classes creneau creneaux",
    Intent.BALANCE: "combien reste restant solde cheque cheques chequier bons voucher vouchers "
    "balance credit left remaining",
    Intent.CHANNEL: "sms texto textos telegram",
    Intent.REMINDERS: "rappel rappels reminder reminders notification notifications alerte alertes",
    Intent.HELP: "aide aider conseiller conseillere help advisor probleme question",
    Intent.LANGUAGE: "langue language anglais english francais french",
}
_KEYWORD_INTENT = {word: intent for intent, words in _KEYWORDS.items() for word in words.split()}
_PRIORITY = list(Intent)


class _Folding(dict[int, str]):
    """Each character once: lower case without its accents ("É" → "e", "’" → "'"), kept for
    the next message (a bounded table: str.translate then runs in C)."""

    LIMIT = 5000

    def __missing__(self, code: int) -> str:
        char = chr(code)
        decomposed = unicodedata.normalize("NFKD", _SPECIAL.get(char, char))
        plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
        if len(self) < self.LIMIT:
            self[code] = plain
        return plain


_SPECIAL = {"’": "'", "‘": "'", "œ": "oe", "Œ": "oe"}
_FOLDING = _Folding()
_JUNK = re.compile(r"[^a-z0-9'#°]+")


def normalize(text: str) -> str:
    """Lower case, no accents, no punctuation except ' # °, single spaces."""
    text = text[:MAX_READ]
    plain = text.lower() if text.isascii() else text.translate(_FOLDING)
    return " ".join(_JUNK.sub(" ", plain).split())


def _without_polite(norm: str) -> str:
    return " ".join(token for token in norm.split() if token not in _POLITE)


def global_word(norm: str) -> Global | None:
    """MENU, AIDE, STOP, START or LANGUE typed alone (politeness allowed)."""
    for candidate in (norm, _without_polite(norm)):
        for word, forms in _GLOBALS.items():
            if candidate in forms:
                return word
    return None


def parse_number(norm: str) -> int | None:
    """'1.', ' 2 ', 'n°3', 'le 2', '#2', '2e', 'deux', 'the first one' → the number."""
    match = _DIGITS.match(norm)
    if match:
        return int(match.group(1))
    tokens = norm.split()
    values = {_WORD_VALUE[t] for t in tokens if t in _WORD_VALUE and t != "one"}
    if not values and "one" in tokens:
        values = {1}
    others = [t for t in tokens if t not in _WORD_VALUE and t not in _FILLERS]
    if len(values) == 1 and not others:
        return values.pop()
    return None


def parse_yes_no(norm: str) -> bool | None:
    """True for oui/ok/d'accord/yes…, False for non/n/nope…, None otherwise."""
    tokens = norm.split()
    if not tokens or len(tokens) > 4:
        return None
    if norm in _YES_PHRASES or " ".join(tokens[:2]) in _YES_PHRASES:
        return True
    if tokens[0] in _YES:
        return True
    if tokens[0] in _NO:
        return False
    return None


def is_more(norm: str) -> bool:
    """'plus', 'more', 'suivant'…: the person wants the next results."""
    tokens = norm.split()
    return 0 < len(tokens) <= 3 and any(token in _MORE for token in tokens)


def _keyword(token: str) -> Intent | None:
    if token in _KEYWORD_INTENT:
        return _KEYWORD_INTENT[token]
    if len(token) < 5:
        return None  # short words: typos are too ambiguous ("bon", "mon", "son")
    cutoff = 85 if len(token) < 7 else 80
    found = process.extractOne(
        token, _KEYWORD_INTENT.keys(), scorer=fuzz.ratio, score_cutoff=cutoff
    )
    return _KEYWORD_INTENT[found[0]] if found else None


def detect_intent(norm: str) -> Intent | None:
    """The intent with most keyword hits (typos forgiven); ties go to the safest intent."""
    tokens = norm.split()[:60]
    counts: dict[Intent, int] = {}
    for token in tokens:
        intent = _keyword(token)
        if intent is not None:
            counts[intent] = counts.get(intent, 0) + 1
    if {"mes", "my"} & set(tokens) and Intent.FIND in counts:
        counts[Intent.BOOKINGS] = counts.get(Intent.BOOKINGS, 0) + counts.pop(Intent.FIND)
    if not counts:
        return None
    return max(counts, key=lambda intent: (counts[intent], -_PRIORITY.index(intent)))


def match_label(norm: str, labels: Sequence[str]) -> int | None:
    """Index of the label the text names ('echiroles' → 'Échirolles'), or None."""
    if len(norm) < 3 or not labels:
        return None
    choices = [normalize(label) for label in labels]
    found = process.extractOne(norm, choices, scorer=fuzz.WRatio, score_cutoff=86)
    return found[2] if found else None
