"""GSM-7 transliteration and counting, formats, and the two renderers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from config.catalogs import load_catalogs
from flows import (
    Choice,
    Reply,
    gsm7_length,
    is_gsm7,
    render_sms,
    render_telegram,
    sms_segments,
    to_gsm7,
)
from tests.flows.fakes import PARIS

CATALOGS = load_catalogs()
KEPT = "é è ù à ì ò É Ç ä ö ü ñ Ä Ö Ü Ñ Å å Æ æ ø Ø ß"  # in the GSM-7 basic table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (KEPT, KEPT),
        ("ê â î ô û ë ï ç", "e a i o u e i c"),
        ("œuvre Œuf", "oeuvre OEuf"),
        ("l’atelier ‘a’ “b” « c »", 'l\'atelier \'a\' "b" " c "'),
        ("attendez… – —", "attendez... - -"),
        ("10\u00a0€ et 5\u202f%", "10 € et 5 %"),
        ("Merci 😀 !", "Merci !"),
        ("😀", ""),
        ("Ÿ Ê À", "Y E A"),
        ("日本", ""),
    ],
)
def test_to_gsm7(text: str, expected: str) -> None:
    assert to_gsm7(text) == expected
    assert is_gsm7(to_gsm7(text))


def test_lengths_and_segments() -> None:
    assert gsm7_length("abc") == 3
    assert gsm7_length("10 €") == 5  # € is in the extension table
    assert gsm7_length("[x]") == 5
    assert sms_segments("") == 0
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3
    assert sms_segments("€" * 80) == 1
    assert sms_segments("€" * 81) == 2
    assert sms_segments("ê" * 70) == 1  # not GSM-7: UCS-2
    assert sms_segments("ê" * 71) == 2


def _sms(
    key: str, params: dict[str, object], language: str = "fr", choices: tuple[Choice, ...] = ()
) -> str:
    return render_sms([Reply(key, params, choices)], CATALOGS, language, PARIS)[0]


def test_dates_and_numbers_in_french() -> None:
    when = datetime(2025, 2, 3, 13, 0, tzinfo=UTC)  # 14h in Paris
    item = {"starts_at": when, "place": "MdH", "distance_km": 0.8}
    assert _sms("slots.item", item) == "lun. 3 févr. 14h, MdH, 0,8 km"
    half = {
        "starts_at": datetime(2025, 8, 14, 12, 30, tzinfo=UTC),
        "place": "X",
        "distance_km": 12.345,
    }
    assert _sms("slots.item", half) == "jeu. 14 aout 14h30, X, 12,3 km"  # août: û by SMS
    balance = {
        "available": 4,
        "value_cents": 1000,
        "next_expiry_on": date(2027, 3, 31),
        "reserved": 1,
    }
    assert "10 € chacun" in _sms("balance.summary", balance)
    assert "31 mars 2027" in _sms("balance.summary", balance)


def test_dates_and_numbers_in_english() -> None:
    item = {"starts_at": "2025-02-03T13:00:00+00:00", "place": "MdH", "distance_km": 0.8}
    assert _sms("slots.item", item, "en") == "Mon 3 Feb 2pm, MdH, 0.8 km"
    item["starts_at"] = datetime(2025, 2, 3, 13, 30, tzinfo=UTC)
    assert _sms("slots.item", item, "en").startswith("Mon 3 Feb 2:30pm")
    assert "€10.50 each" in _sms("balance.summary", {"value_cents": 1050}, "en")


def test_choices_numbers_and_footer() -> None:
    choices = (
        Choice(1, "choice.yes"),
        Choice(2, "choice.no"),
        Choice(3, "find.share_location", request="location"),
    )
    text = _sms("bookings.list", {"_footer": "bookings.footer"}, choices=choices)
    lines = [
        "Vos rendez-vous :",
        "1. Oui",
        "2. Non",
        "Pour en annuler un, répondez 1 ou 2.",
        "0 = menu",
    ]
    assert text == "\n".join(lines)


def test_long_names_are_shortened_by_sms_only() -> None:
    place = "Maison des habitants et de la médiation numérique du quartier Teisseire-Malherbe"
    params = {
        "starts_at": datetime(2025, 12, 24, 18, 30, tzinfo=UTC),
        "place": place,
        "address": "123 avenue du Maréchal de Lattre de Tassigny",
        "commune": "Saint-Martin-d'Hères",
    }
    sms = _sms("book.done", params)
    assert gsm7_length(sms) <= 160 and "..." in sms and "Saint-Martin-d'Hères" in sms
    telegram = render_telegram([Reply("book.done", params)], CATALOGS, "fr", PARIS)[0]
    assert place in telegram.text and telegram.keyboard is None


def test_telegram_keyboard_and_original_characters() -> None:
    choices = (
        Choice(1, "menu.reminders_off"),
        Choice(2, "find.share_location", request="location"),
    )
    message = render_telegram([Reply("find.ask_place", {}, choices)], CATALOGS, "fr", PARIS)[0]
    assert message.text.endswith("1. Arrêter les rappels")
    assert "touchez le bouton" in message.text  # the Telegram wording of the same key
    assert message.keyboard is not None
    labels = [(row[0].label, row[0].request) for row in message.keyboard]
    assert labels == [("1. Arrêter les rappels", None), ("Envoyer ma position", "location")]


def test_choice_in_its_own_language() -> None:
    choices = (
        Choice(1, "language.name", {"_language": "fr"}),
        Choice(2, "language.name", {"_language": "en"}),
    )
    assert _sms("language.choose", {}, "en", choices).endswith("1. Francais\n2. English")


def test_missing_key_and_broken_template_do_not_fail() -> None:
    catalogs = {"fr": {"fmt.or": "ou", "fmt.choice": "{number}. {label}", "bad": "{0} {x.y"}}
    assert render_sms([Reply("nope")], catalogs, "fr", PARIS) == ["nope"]
    assert render_sms([Reply("bad")], catalogs, "de", PARIS) == ["{0} {x.y"]


def test_hard_cut_as_last_resort() -> None:
    catalogs = {"fr": {"long": "x" * 400}}
    (sms,) = render_sms([Reply("long")], catalogs, "fr", PARIS)
    assert gsm7_length(sms) <= 160 and sms.endswith("...")


def test_the_bookings_footer_counts_only_the_bookings() -> None:
    """ "Pour en annuler un, répondez 1." — not 2, which takes the search up again."""
    choices = (Choice(1, "bookings.item", {}), Choice(2, "resume.choice"))
    params = {"_footer": "bookings.footer", "_footer_items": 1}
    text = _sms("bookings.list", params, choices=choices)
    assert "Pour en annuler un, répondez 1.\n" in text
