"""STOP and START, the way people write them: one rule, used by the conversation engine and
by bot/ before any flood limit (so a STOP is never lost because someone wrote too much).

The rule (docs/conversation.md repeats it):
1. The whole message, once lower-cased, stripped of accents, punctuation and politeness, is a
   stop word ("stop", "arret", "arrete", "stop sms", "desabonner", "unsubscribe", "S T O P" …):
   opt out.
2. A longer message opts out only when it asks to stop *messages*: a stop verb ("arrete",
   "stop", "ne plus", "unsubscribe"…) together with what we send ("messages", "sms",
   "textos", "m'envoyer", "recevoir", "texting" …), and nothing else we offer to stop
   (reminders, a booking, a workshop). "arrêtez de m'envoyer des messages" opts out;
   "stop, je me suis trompé", "arrêter les rappels", "annuler stop" do not.
3. START ("start", "marche", "unstop", "start sms") typed alone resumes messages.
It is code, not lexicon data, on purpose: it is the same in every language and must work
before any lexicon is loaded.
"""

from __future__ import annotations

import re

from flows.understand import normalize

__all__ = ["opt_out_intent", "opt_out_of"]

_STOP_ALONE = {
    "stop",
    "stopsms",
    "stop sms",
    "stop all",
    "stopall",
    "stop message",
    "stop messages",
    "stop les messages",
    "stop les sms",
    "arret",
    "arrete",
    "arreter",
    "arretez",
    "arret sms",
    "arrete sms",
    "desabonner",
    "desabonnement",
    "se desabonner",
    "me desabonner",
    "desabonnez moi",
    "unsubscribe",
    "unsubscribe me",
    "opt out",
    "optout",
    "end",
    "quit",
    "cancel all",
    "stop texting",
    "ne plus recevoir",
}
_START_ALONE = {"start", "marche", "unstop", "start sms", "restart sms"}
_POLITE = {
    "svp", "stp", "merci", "please", "thanks", "thank", "you", "s", "il", "vous", "te", "plait",
    "maintenant", "now", "tout", "de", "suite", "the", "all", "pls", "plz",
}  # fmt: skip
_STOP_VERB = re.compile(
    r"\b(stop\w*|arret\w*|cesse\w*|desabonn\w*|desinscri\w*|unsubscrib\w*|"
    r"ne (?:me )?plus|veu\w* plus|plus de|n ?envoyez plus|plus jamais|"
    r"no more|do not|dont|don t|never)\b"
)
_MESSAGES = re.compile(
    r"\b(messages?|sms|textos?|texts?|texting|envoy\w*|envoi\w*|recevoir|ecri\w*|"
    r"contact\w*|sending|send|harcel\w*|spam\w*|notif\w*)\b"
)
_OTHER_OBJECT = re.compile(
    r"\b(rappels?|reminders?|rdv|rendez|ateliers?|workshops?|bookings?|appointments?|"
    r"seances?|annul\w*|cancel\w*|trompe\w*|erreur|mistake|telegram)\b"
)


def _plain(norm: str) -> str:
    words = norm.replace("'", " ").split()
    if len(words) >= 3 and all(len(word) == 1 for word in words):
        words = ["".join(words)]  # "S T O P"
    words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]  # "stop stop"
    return " ".join(words)


def opt_out_intent(text: str) -> str | None:
    """'stop' when the message asks to stop all messages, 'start' to resume, else None."""
    return opt_out_of(normalize(text))


def opt_out_of(norm: str) -> str | None:
    """The same, of a message already normalised (the interpreter reads it once)."""
    plain = _plain(norm)
    if not plain or len(plain) > 160:
        return None
    bare = " ".join(word for word in plain.split() if word not in _POLITE)
    if bare in _STOP_ALONE or plain in _STOP_ALONE:
        return "stop"
    if bare in _START_ALONE or plain in _START_ALONE:
        return "start"
    if _OTHER_OBJECT.search(plain):
        return None
    if _STOP_VERB.search(plain) and _MESSAGES.search(plain):
        return "stop"
    return None
