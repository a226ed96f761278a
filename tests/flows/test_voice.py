"""The voice renderer: numbers and dates said naturally, four choices a prompt at most, and
every prompt (with the longest values) under 25 seconds at 150 words a minute."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.catalogs import load_catalogs
from flows import Choice, Reply
from flows.voice import PAGE_SIZE, render_voice, spoken_words
from tests.flows.fakes import PARIS
from tests.flows.test_catalogs import FOOTERS, HEADS, LANGUAGES, WORST

CATALOGS = load_catalogs()
MAX_WORDS = 25 * 150 / 60  # 25 seconds of speech


def test_dates_distances_and_phone_numbers_are_said_naturally() -> None:
    slot = Choice(1, "slots.item", {"starts_at": datetime(2025, 12, 2, 13, 30, tzinfo=UTC),
                                    "place": "Médiathèque", "distance_km": 0.7})  # fmt: skip
    turn = render_voice([Reply("slots.list_here", {}, (slot,))], CATALOGS, "fr", PARIS)
    said = " ".join(s.text for s in turn.speech())
    assert "mardi 2 décembre à 14 heures 30" in said and "à 700 mètres" in said
    assert "Pour l'atelier du" in said and "tapez 1." in said
    help_turn = render_voice(
        [Reply("help.contact", {"phone": "+33 4 76 00 00 07", "hours": "lun.-ven. 9h-12h"})],
        CATALOGS,
        "fr",
        PARIS,
    )
    text = help_turn.speech()[0].text
    assert "0 4, 76, 0 0, 0 0, 0 7" in text and "lundi à vendredi 9 heures à 12 heures" in text


def test_english_is_said_with_an_english_voice() -> None:
    turn = render_voice([Reply("menu.again", {}, HEADS["menu.again"])], CATALOGS, "en", PARIS)
    assert {s.language for s in turn.speech()} == {"en-GB"}
    assert turn.speech()[1].text == "For your vouchers, press 1."


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_prompt_is_short_and_has_four_choices_at_most(language: str) -> None:
    for key, choices in HEADS.items():
        params = {**WORST, **({"_footer": FOOTERS[key]} if key in FOOTERS else {})}
        turn = render_voice([Reply(key, params, choices)], CATALOGS, language, PARIS)
        for page in range(len(turn.pages)):
            said = turn.speech(page)
            assert sum(" tapez " in s.text or " press " in s.text for s in said) <= PAGE_SIZE + 2
            assert spoken_words(said) <= MAX_WORDS, (key, page, spoken_words(said), said)
            assert not any("{" in s.text or "Répondez" in s.text for s in said), (key, said)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_alone_is_short_and_never_says_reply(language: str) -> None:
    for key in CATALOGS[language]:
        if key.startswith("fmt.") or key.endswith((".voice", ".telegram")) or key in HEADS:
            continue
        turn = render_voice([Reply(key, dict(WORST))], CATALOGS, language, PARIS)
        said = turn.speech()
        assert spoken_words(said) <= MAX_WORDS, (key, said)
        if not key.startswith("notice.") and "_one_way" not in key:
            assert not any(w in s.text for s in said for w in ("Répondez", "Reply", " = ")), key
