"""Table tests of flows/understand.py."""

from __future__ import annotations

import pytest

from flows.understand import (
    Global,
    Intent,
    detect_intent,
    global_word,
    is_more,
    match_label,
    normalize,
    parse_number,
    parse_yes_no,
)

NUMBERS = [
    ("1", 1),
    ("1.", 1),
    (" 2 ", 2),
    ("n°3", 3),
    ("N° 4", 4),
    ("no 3", 3),
    ("le 2", 2),
    ("#2", 2),
    ("2)", 2),
    ("2e", 2),
    ("3ème", 3),
    ("1er", 1),
    ("un", 1),
    ("deux", 2),
    ("trois", 3),
    ("premier", 1),
    ("la deuxième", 2),
    ("first", 1),
    ("one", 1),
    ("two", 2),
    ("the first one", 1),
    ("Third", 3),
    ("cinq svp", 5),
    ("1. Mes chèques", 1),
    ("", None),
    ("abc", None),
    ("je veux un atelier", None),
    ("un atelier", None),
    ("un deux", None),
    ("😀", None),
]


@pytest.mark.parametrize(("text", "expected"), NUMBERS)
def test_parse_number(text: str, expected: int | None) -> None:
    assert parse_number(normalize(text)) == expected


YES_NO = [
    ("oui", True),
    ("Oui", True),
    ("OUI !", True),
    ("o", True),
    ("ok", True),
    ("OK merci", True),
    ("d'accord", True),
    ("d’accord", True),
    ("dac", True),
    ("ouais", True),
    ("yes", True),
    ("y", True),
    ("bien sûr", True),
    ("non", False),
    ("Non merci", False),
    ("n", False),
    ("no", False),
    ("nope", False),
    ("", None),
    ("peut-être", None),
    ("2", None),
    ("oui mais je voudrais changer de jour svp", None),
]


@pytest.mark.parametrize(("text", "expected"), YES_NO)
def test_parse_yes_no(text: str, expected: bool | None) -> None:
    assert parse_yes_no(normalize(text)) is expected


GLOBALS = [
    ("MENU", Global.MENU),
    ("menu", Global.MENU),
    ("0", Global.MENU),
    ("Menu.", Global.MENU),
    ("AIDE", Global.HELP),
    ("help", Global.HELP),
    ("aide svp", Global.HELP),
    ("STOP", Global.STOP),
    ("Stop !", Global.STOP),
    ("ARRET", Global.STOP),
    ("ARRÊT", Global.STOP),
    ("stop sms", Global.STOP),
    ("DESABONNER", Global.STOP),
    ("Désabonner", Global.STOP),
    ("UNSUBSCRIBE", Global.STOP),
    ("START", Global.START),
    ("Marche", Global.START),
    ("UNSTOP", Global.START),
    ("LANGUE", Global.LANGUAGE),
    ("language", Global.LANGUAGE),
    ("stop le bruit", None),
    ("menu du jour demain", None),
    ("bonjour", None),
    ("", None),
    ("00", Global.MENU),
]


@pytest.mark.parametrize(("text", "expected"), GLOBALS)
def test_global_word(text: str, expected: Global | None) -> None:
    assert global_word(normalize(text)) == expected


INTENTS = [
    ("combien il me reste", Intent.BALANCE),
    ("Combien de chèques ?", Intent.BALANCE),
    ("mon solde", Intent.BALANCE),
    ("how many vouchers left", Intent.BALANCE),
    ("je veux un atelier", Intent.FIND),
    ("reserver", Intent.FIND),
    ("Réserver", Intent.FIND),
    ("je voudrais un ateleir", Intent.FIND),
    ("find a session", Intent.FIND),
    ("annuler mon rdv", Intent.CANCEL),
    ("anuler", Intent.CANCEL),
    ("annuler mon atelier", Intent.CANCEL),
    ("cancel my booking", Intent.CANCEL),
    ("mes rendez-vous", Intent.BOOKINGS),
    ("mes réservations", Intent.BOOKINGS),
    ("my bookings", Intent.BOOKINGS),
    ("rdv", Intent.BOOKINGS),
    ("plus de rappels", Intent.REMINDERS),
    ("je veux parler à un conseiller", Intent.HELP),
    ("english please", Intent.LANGUAGE),
    ("bonjour", None),
    ("chaque jour", None),
    ("", None),
    ("😀🎉", None),
]


@pytest.mark.parametrize(("text", "expected"), INTENTS)
def test_detect_intent(text: str, expected: Intent | None) -> None:
    assert detect_intent(normalize(text)) == expected


def test_normalize() -> None:
    assert normalize("  Échirolles  ") == "echirolles"
    assert normalize("D’ACCORD !!") == "d'accord"
    assert normalize("n°3.") == "n°3"
    assert normalize("😀") == ""
    assert len(normalize("a " * 2000)) <= 300


@pytest.mark.parametrize("text", ["plus", "more", "suivant", "Plus svp", "les autres"])
def test_is_more(text: str) -> None:
    assert is_more(normalize(text))


def test_is_more_not_sentences() -> None:
    assert not is_more(normalize("je ne veux plus de rappels du tout"))
    assert not is_more("")


LABELS = ["Grenoble", "Échirolles", "Saint-Martin-d'Hères"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("echiroles", 1),
        ("Échirolles", 1),
        ("saint martin d'heres", 2),
        ("grenobl", 0),
        ("zz", None),
        ("Paris", None),
    ],
)
def test_match_label(text: str, expected: int | None) -> None:
    assert match_label(normalize(text), LABELS) == expected


@pytest.mark.parametrize(
    ("text", "current", "wanted"),
    [
        ("je ne veux plus de rappels", False, False),
        ("je ne veux plus de rappels", True, False),
        ("stop les rappels", True, False),
        ("remettre les rappels", False, True),
        ("4", True, False),
        ("4", False, True),
    ],
)
def test_reminders_follow_what_is_asked(text: str, current: bool, wanted: bool) -> None:
    from flows.account import wanted_reminders

    assert wanted_reminders(normalize(text), current) is wanted
