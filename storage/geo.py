"""Where is the person? Typed commune names, postcodes and neighbourhoods → points on the map."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from config.reference import Commune, Neighbourhood, communes, neighbourhoods
from flows.types import PlacePoint

__all__ = ["PlaceResolver", "default_resolver", "haversine_km", "normalize_name"]

EARTH_RADIUS_KM = 6371.0
# Below these lengths a typo match is more likely a coincidence than a commune.
MIN_FUZZY_LENGTH = 5
FUZZY_CUTOFF = 85.0  # "crolles" (not ours) scores 82 against "echirolles"
SHORT_LENGTH = 6  # up to this length, one typo at most ("meylam"; not "ville" → "vizille")
MIN_PREFIX_LENGTH = 4
MAX_PREFIX_MATCHES = 4  # "saint" names nine places: too vague to list
_ARTICLES = ("le", "la", "les", "l")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
_POSTCODE = re.compile(r"\d{5}")
# Short names people use for communes whose official name is long (or has a well-known acronym).
# (The first words of a long name, "varces" or "seyssinet", are found as prefixes.)
_COMMUNE_ALIASES = {"smh": "38421", "pariset": "38485"}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def normalize_name(text: str) -> str:
    """`"St-Martin-d'Hères"` → `"saint martin d heres"`; `"Le Pont-de-Claix"` → `"pont de claix"`.

    Accents, case, punctuation, "st" and a leading article are what people vary on most.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("œ", "oe"))
    plain = "".join(
        ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch)
    )
    words = [_ABBREVIATIONS.get(word, word) for word in plain.split()]
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


@dataclass(frozen=True)
class _Entry:
    point: PlacePoint
    commune: Commune
    population: int  # orders shared postcodes; a neighbourhood gets its commune's


class PlaceResolver:
    """Resolves typed text to candidate points; builds its index once, resolves in microseconds."""

    def __init__(
        self, communes: Iterable[Commune], neighbourhoods: Iterable[Neighbourhood]
    ) -> None:
        self._by_name: dict[str, list[_Entry]] = {}
        self._by_postcode: dict[str, list[_Entry]] = {}
        self._by_insee: dict[str, _Entry] = {}
        for commune in communes:
            self._add_commune(commune)
        for hood in neighbourhoods:
            self._add_neighbourhood(hood)
        for alias, code in _COMMUNE_ALIASES.items():
            if code in self._by_insee:
                self._index(alias, self._by_insee[code])
        for entries in self._by_postcode.values():
            entries.sort(key=lambda entry: -entry.population)
        self._keys = list(self._by_name)

    def _add_commune(self, commune: Commune) -> None:
        point = PlacePoint(commune.name, commune.latitude, commune.longitude)
        entry = _Entry(point, commune, commune.population)
        self._by_insee[commune.insee] = entry
        self._index(commune.name, entry)
        for postcode in commune.postcodes:
            self._by_postcode.setdefault(postcode, []).append(entry)

    def _add_neighbourhood(self, hood: Neighbourhood) -> None:
        home = self._by_insee.get(hood.commune_insee)
        if home is None:
            return  # a neighbourhood of a commune we do not serve
        point = PlacePoint(f"{hood.name} ({home.commune.name})", hood.latitude, hood.longitude)
        entry = _Entry(point, home.commune, home.population)
        for name in (hood.name, *hood.aliases):
            self._index(name, entry)

    def _index(self, name: str, entry: _Entry) -> None:
        entries = self._by_name.setdefault(normalize_name(name), [])
        if entry not in entries:
            entries.append(entry)

    def resolve(self, text: str) -> list[PlacePoint]:
        """0 points: unknown; 1: found; several: let the person choose (most populous first)."""
        return [entry.point for entry in self._lookup(text)]

    def communes_for(self, text: str) -> list[Commune]:
        """The communes a text names (name, neighbourhood, postcode or INSEE code), deduplicated."""
        code = text.strip()
        if code in self._by_insee:
            return [self._by_insee[code].commune]
        found: list[Commune] = []
        for entry in self._lookup(text):
            if entry.commune not in found:
                found.append(entry.commune)
        return found

    def commune_by_insee(self, insee: str) -> Commune | None:
        entry = self._by_insee.get(insee.strip())
        return entry.commune if entry else None

    def _lookup(self, text: str) -> list[_Entry]:
        compact = re.sub(r"\s", "", text)
        if _POSTCODE.fullmatch(compact):
            return list(self._by_postcode.get(compact, []))
        key = normalize_name(text)
        if not key:
            return []
        return (
            self._by_name.get(key)
            or self._prefix(key)
            or self._fuzzy(key)
            or self._within_sentence(key)
        )

    def _prefix(self, key: str) -> list[_Entry]:
        """ "saint martin" → both Saint-Martin-…; "varces" → Varces-Allières-et-Risset."""
        if len(key) < MIN_PREFIX_LENGTH:
            return []
        found: list[_Entry] = []
        for name in self._keys:
            if name.startswith(key + " "):
                found.extend(e for e in self._by_name[name] if e not in found)
        if len(found) > MAX_PREFIX_MATCHES:
            return []
        return sorted(found, key=lambda entry: -entry.population)

    def _fuzzy(self, key: str) -> list[_Entry]:
        if len(key) < MIN_FUZZY_LENGTH:
            return []
        found: list[_Entry] = []
        for name in self._closest_names(key):
            found.extend(e for e in self._by_name[name] if e not in found)
        return found

    def _closest_names(self, key: str) -> list[str]:
        """The best-scoring index keys within the cut-off, ties included."""
        if len(key) <= SHORT_LENGTH:
            near = process.extract(key, self._keys, scorer=Levenshtein.distance, score_cutoff=1)
            return [name for name, distance, _ in near if distance == near[0][1]]
        similar = process.extract(key, self._keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return [name for name, score, _ in similar if score == similar[0][1]]

    def _within_sentence(self, key: str) -> list[_Entry]:
        """ "j'habite à Échirolles": an exact name inside a short sentence, longest first."""
        words = key.split()
        for size in range(min(len(words) - 1, 5), 0, -1):
            for start in range(len(words) - size + 1):
                found = self._by_name.get(" ".join(words[start : start + size]))
                if found:
                    return list(found)
        return []


def default_resolver() -> PlaceResolver:
    """A resolver over the shipped reference data (build once, keep it)."""
    return PlaceResolver(communes(), neighbourhoods())
