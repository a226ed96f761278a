"""How residents write, per language: config/lexicon/<language>.json (SMS spelling and the
words of each meaning). Data only; bot/ merges them into the flows' lexicon. Imports nothing
from the project."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["load_lexicons"]


def load_lexicons() -> list[dict[str, Any]]:
    """Every lexicon file, French first: [{"spelling": {...}, "words": {...}}, …]."""
    folder = resources.files("config") / "lexicon"
    found = {
        entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }
    return [found[code] for code in sorted(found, key=lambda code: (code != "fr", code))]
