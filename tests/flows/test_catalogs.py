"""Every catalog has the same keys, and every template fits an SMS with worst-case values."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime
from typing import Any

import pytest

from config.catalogs import available_languages, load_catalogs
from flows import Choice, Reply, gsm7_length, is_gsm7
from flows.render import SMS_BUDGET, SMS_CHOICES_BUDGET, _Writer, sms_text
from tests.flows.fakes import PARIS

CATALOGS = load_catalogs()
LANGUAGES = sorted(CATALOGS)

# The longest values a template may get. Two-digit dates, a long commune and place name.
WORST: dict[str, Any] = {
    "first_name": "Marie-Dominique-Élise",
    "place": "Maison des habitants et de la médiation numérique Teisseire-M",
    "address": "123 avenue du Maréchal de Lattre de Tassigny",
    "commune": "Saint-Martin-d'Hères",
    "label": "Saint-Martin-d'Hères (Les Alpes)",
    "starts_at": datetime(2025, 12, 24, 18, 30, tzinfo=UTC),
    "starts_time": datetime(2025, 12, 24, 18, 30, tzinfo=UTC),
    "until_time": datetime(2025, 12, 24, 18, 45, tzinfo=UTC),
    "next_expiry_on": date(2027, 12, 31),
    "expires_on": date(2027, 12, 31),
    "available": 10,
    "reserved": 10,
    "value_cents": 1050,
    "distance_km": 12.5,
    "phone": "+33 4 76 12 34 56",
    "hours": "lun.-ven. 9h-12h et 14h-17h",
    "minutes": 15,
    "last": 10,
    "first": 1,
}
# Keys that head a list of choices, with the longest list they get.
MENU = tuple(
    Choice(n, k)
    for n, k in enumerate(
        ["menu.balance", "menu.find", "menu.bookings", "menu.reminders_on", "menu.help"], 1
    )
)
SLOTS = (*(Choice(n, "slots.item", WORST) for n in (1, 2)), Choice(3, "slots.more"))
TOPIC = {"label": "Débuter sur ordinateur"}
TOPICS = (Choice(1, "find.any_topic"), *(Choice(n, "find.topic_item", TOPIC) for n in range(2, 10)))
SHORT_TOPICS = (
    Choice(1, "find.any_topic"),
    *(
        Choice(n, f"topic.{key}")
        for n, key in enumerate(
            [
                "email",
                "demarches",
                "logement",
                "smartphone",
                "ordinateur",
                "securite",
                "visio",
                "emploi",
            ],
            2,
        )
    ),
)
PLACES = tuple(Choice(n, "find.place_item", WORST) for n in range(1, 7))
YES_NO = (Choice(1, "choice.yes"), Choice(2, "choice.no"))
BOOKINGS = tuple(Choice(n, "bookings.item", WORST) for n in range(1, 6))
BOOKINGS_RESUME = (*BOOKINGS, Choice(6, "resume.choice"))
HEADS: dict[str, tuple[Choice, ...]] = {
    "menu.intro": MENU,
    "menu.again": MENU,
    "menu.not_understood": MENU,
    "menu.linked": MENU,
    "bookings.none": MENU,
    "cancel.kept": MENU,
    "slots.list": SLOTS,
    "slots.list_here": SLOTS,
    "find.choose_topic": TOPICS,
    "slots.list_home": SLOTS,
    "find.choose_place": PLACES,
    "book.confirm": YES_NO,
    "cancel.confirm": YES_NO,
    "bookings.list": BOOKINGS_RESUME,
    "help.contact": (Choice(1, "help.leave_message"), Choice(2, "resume.choice")),
    "language.choose": tuple(
        Choice(n, "language.name", {"_language": code}) for n, code in enumerate(LANGUAGES, 1)
    ),
}
FOOTERS = {key: "menu.footer" for key, choices in HEADS.items() if choices is MENU}
FOOTERS["bookings.list"] = "bookings.footer"


def _checked(key: str) -> bool:
    """SMS texts: not the formats, nor the Telegram and spoken (voice) wordings."""
    if key.startswith(("fmt.", "voice.")):
        return False
    return not key.endswith((".telegram", ".voice"))


def test_french_first_and_english_present() -> None:
    assert available_languages()[0] == "fr"
    assert {"fr", "en"} <= set(available_languages())


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_keys_everywhere(language: str) -> None:
    assert set(CATALOGS[language]) == set(CATALOGS["fr"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_known(language: str) -> None:
    known = set(WORST) | {
        "numbers",
        "number",
        "label",
        "amount",
        "weekday",
        "day",
        "month",
        "year",
        "time",
        "hour",
        "hour12",
        "minute",
        "ampm",
        "minutes",  # voice: "14 heures 5"
        "metres",
        "km",
    }
    for key, template in CATALOGS[language].items():
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        assert fields <= known, (key, fields - known)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_fits_an_sms(language: str) -> None:
    writer = _Writer(CATALOGS, language, PARIS, "sms")
    for key in filter(_checked, CATALOGS[language]):
        params = dict(WORST)
        if key in FOOTERS:
            params["_footer"] = FOOTERS[key]
        choices = HEADS.get(key, ())
        text, cut = sms_text(Reply(key, params, choices), writer)
        budget = SMS_CHOICES_BUDGET if choices else SMS_BUDGET
        assert not cut, f"{language} {key} does not fit even with names shortened:\n{text}"
        assert gsm7_length(text) <= budget and is_gsm7(text), (key, text)


@pytest.mark.parametrize("find", ["menu.find", "menu.find_place"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_main_menu_fits_one_sms(language: str, find: str) -> None:
    """Also when it asks for the commune (a person whose commune we do not know)."""
    writer = _Writer(CATALOGS, language, PARIS, "sms")
    menu = tuple(Choice(c.number, find if c.key == "menu.find" else c.key) for c in MENU)
    reply = Reply("menu.intro", {"first_name": WORST["first_name"], "_footer": "menu.footer"}, menu)
    text, _ = sms_text(reply, writer)
    assert gsm7_length(text) <= SMS_BUDGET, text
