"""Staff catalogs: same keys and placeholders in every language, every key the bot uses exists,
and every call passes exactly the placeholders its template needs."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

import pytest

from bot.channels import telegram_staff
from bot.console import routes_signin
from config.catalogs import load_staff_texts
from storage import booklet_guard

TEXTS = load_staff_texts()
LANGUAGES = sorted(TEXTS)
SOURCE = Path(telegram_staff.__file__).read_text(encoding="utf-8")
# The help-inbox entry of a locked booklet and the console's sign-in link are staff texts too.
OTHER_SOURCES = Path(booklet_guard.__file__).read_text(encoding="utf-8") + Path(
    routes_signin.__file__
).read_text(encoding="utf-8")

SAMPLE: dict[str, Any] = {
    "name": "Nadia",
    "segment": "commune:38057",
    "recipients": 12,
    "sms": 10,
    "telegram": 2,
    "sms_segments": 1,
    "cost": 0.456,
    "sms_text": "Atelier gratuit lundi",
    "broadcast_id": 3,
    "slot_id": 41,
    "booking_id": 7,
    "first_name": "Marie",
    "status": "attended",
    "reason": "ce créneau n'est pas dans vos lieux",
    "value": 1.5,
    "number": "PN-0001",
    "failures": 10,
    "link": "https://passnum.example.org/signin/link/Zx9",
}


def _placeholders(template: str) -> set[tuple[str, str]]:
    """The (name, format spec) pairs of a `str.format` template."""
    return {
        (field, spec or "")
        for _, field, spec, _ in string.Formatter().parse(template)
        if field is not None
    }


def _text_calls() -> list[ast.Call]:
    """Every `_text("staff.…", …)` call with a literal key in bot/channels/telegram_staff.py."""
    return [
        node
        for node in ast.walk(ast.parse(SOURCE))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_text"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]


def test_french_is_there_and_is_the_default() -> None:
    assert "fr" in TEXTS
    assert telegram_staff.STAFF_LANGUAGE in TEXTS


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_keys_and_placeholders_as_french(language: str) -> None:
    french, other = TEXTS["fr"], TEXTS[language]
    assert sorted(other) == sorted(french)
    for key, template in french.items():
        assert _placeholders(other[key]) == _placeholders(template), key


def test_every_key_used_in_the_bot_exists() -> None:
    used = set(re.findall(r"\"(staff\.[a-z_]+)\"", SOURCE + OTHER_SOURCES))
    assert len(used) >= 15  # the pattern still matches how the module names its keys
    assert used <= set(TEXTS["fr"]), used - set(TEXTS["fr"])
    assert set(TEXTS["fr"]) <= used, f"unused keys: {set(TEXTS['fr']) - used}"


def test_every_call_passes_the_placeholders_of_its_template() -> None:
    calls = _text_calls()
    assert calls
    for call in calls:
        key = call.args[0].value  # type: ignore[attr-defined]
        passed = {keyword.arg for keyword in call.keywords}
        needed = {name for name, _ in _placeholders(TEXTS["fr"][key])}
        assert passed == needed, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_with_sample_values(language: str) -> None:
    for key, template in TEXTS[language].items():
        assert template.format(**SAMPLE), key


def test_french_renders_as_before() -> None:
    texts = TEXTS["fr"]
    assert (
        texts["staff.preview"]
        .format(**SAMPLE)
        .startswith(
            "Aperçu (commune:38057) : 12 destinataires (10 SMS, 2 Telegram), "
            "1 segment(s) SMS, coût estimé 0.46 €.\nSMS : "
        )
    )
    assert texts["staff.stats_line"].format(name="vouchers issued", value=3.0) == (
        "vouchers issued : 3"
    )
