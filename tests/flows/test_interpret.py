"""The interpreter and the STOP rule, on messages written the way residents write."""

from __future__ import annotations

from datetime import date

import pytest

from flows import opt_out_intent
from flows.interpret import interpret
from tests.flows.transcript import SETTINGS

MONDAY = date(2025, 2, 3)

STOPS = [
    "STOP",
    "stop svp",
    "Arrête",
    "arrete",
    "arretez de m envoyer des messages",
    "arrete de menvoyer des messages",
    "stop les messages",
    "STOP SMS",
    "desabonner",
    "Désabonnez-moi",
    "ne plus recevoir",
    "je ne veux plus recevoir de messages",
    "S T O P",
    "unsubscribe",
    "please stop texting me",
    "dont send me messages anymore",
]
NOT_STOPS = [
    "stop, je me suis trompé",
    "arreter les rappels",
    "je veux plus de rappels",
    "stop annuler",
    "stop le rdv",
    "je veux un atelier",
    "j'arrive pas à envoyer un message",
    "arrêt de bus gare",
    "ok",
]


@pytest.mark.parametrize("text", STOPS)
def test_stop_the_way_people_say_it(text: str) -> None:
    assert opt_out_intent(text) == "stop"


@pytest.mark.parametrize("text", NOT_STOPS)
def test_a_sentence_with_stop_in_another_sense_is_not_an_opt_out(text: str) -> None:
    assert opt_out_intent(text) is None


@pytest.mark.parametrize("text", ["START", "start", "Marche", "unstop"])
def test_start(text: str) -> None:
    assert opt_out_intent(text) == "start"


READINGS = [
    ("je veut reserver un atelier a fontaine", "find", None, None, ("fontaine",)),
    ("un cour dordinateur a echirolle", "find", "ordinateur", None, ("echirolle",)),
    (
        "atelier ordinateur a fontaine demain aprem",
        "find",
        "ordinateur",
        "2025-02-04 afternoon",
        ("fontaine",),
    ),
    ("combien il me reste", "balance", None, None, ()),
    ("cb il me reste stp", "balance", None, None, ()),
    ("annule mon rdv de vendredi", "cancel", None, "2025-02-07", ()),
    ("je pourrai pas venir vendredi", "cant_come", None, "2025-02-07", ()),
    ("c ou deja", "where", None, None, ()),
    ("c a quelle heure", "when", None, None, ()),
    ("c quand mon rdv", "when", None, None, ()),
    ("ok jy serai", "coming", None, None, ()),
    ("plutot jeudi", None, None, "2025-02-06", ()),
    ("la semaine prochaine le matin", None, None, "2025-02-10 morning", ()),
    ("le 12 fevrier", None, None, "2025-02-12", ()),
    ("i want a computer class tomorrow", "find", "ordinateur", "2025-02-04", ()),
    ("when is my appointment", "when", None, None, ()),
]


@pytest.mark.parametrize(("text", "intent", "topic", "when", "place"), READINGS)
def test_readings(
    text: str, intent: str | None, topic: str | None, when: str | None, place: tuple[str, ...]
) -> None:
    heard = interpret(text, SETTINGS.lexicon, MONDAY)
    assert heard.intent == intent
    assert heard.topic == topic
    shown = None
    if heard.when:
        shown = str(heard.when.first) + (f" {heard.when.part}" if heard.when.part else "")
    assert shown == when
    if place:
        assert place in heard.place_words


@pytest.mark.parametrize(
    "text", ["merci", "ok merci", "OK", "👍", "bonne journée", "mrc", "thanks!"]
)
def test_acknowledgements(text: str) -> None:
    assert interpret(text, SETTINGS.lexicon, MONDAY).ack


@pytest.mark.parametrize("text", ["bonjour", "bjr", "slt", "Hello", "bonsoir madame"])
def test_greetings(text: str) -> None:
    heard = interpret(text, SETTINGS.lexicon, MONDAY)
    assert heard.greeting and not heard.ack


@pytest.mark.parametrize(
    ("text", "small"),
    [
        ("retour", "back"),
        ("non", "no"),
        ("nan", "no"),
        ("oui", "yes"),
        ("dac", "yes"),
        ("plus", "more"),
    ],
)
def test_small_words(text: str, small: str) -> None:
    assert interpret(text, SETTINGS.lexicon, MONDAY).small == small
