"""Message catalogs: one JSON file per language, shipped as package data.

`config/catalogs/` holds the beneficiaries' texts (SMS and Telegram, tested for SMS length);
`config/staff_catalogs/` holds the staff commands' texts (Telegram only). A new language is a
new file (same keys as fr.json); no code changes. Imports nothing from the project.
"""

from __future__ import annotations

import json
from importlib import resources

__all__ = ["available_languages", "load_catalogs", "load_console_texts", "load_staff_texts"]


def _files(folder_name: str = "catalogs") -> dict[str, str]:
    folder = resources.files("config") / folder_name
    return {
        entry.name.removesuffix(".json"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


def load_catalogs() -> dict[str, dict[str, str]]:
    """Every catalog, by language code: {"fr": {"menu.balance": "Mes chèques", …}, …}."""
    return {code: json.loads(text) for code, text in sorted(_files().items())}


def load_staff_texts() -> dict[str, dict[str, str]]:
    """Every staff catalog, by language code: {"fr": {"staff.linked": "Bonjour {name}, …"}, …}."""
    return {code: json.loads(text) for code, text in sorted(_files("staff_catalogs").items())}


def load_console_texts() -> dict[str, dict[str, str]]:
    """The web console's labels, by language code: {"fr": {"nav.today": "Aujourd'hui"}, …}."""
    return {code: json.loads(text) for code, text in sorted(_files("console_catalogs").items())}


def available_languages() -> tuple[str, ...]:
    """The language codes that have a catalog, French first."""
    codes = sorted(_files())
    return tuple(sorted(codes, key=lambda code: (code != "fr", code)))
