"""Reference data shipped with the product: communes, topics, neighbourhoods.

Read from the `config` package with importlib.resources, so it works from an installed wheel and
from any working directory. Standard library only; imports nothing from the project.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Commune", "Neighbourhood", "TopicInfo", "communes", "neighbourhoods", "topics"]


@dataclass(frozen=True)
class Commune:
    """A commune of Grenoble-Alpes Métropole. `{"insee": "38151", "name": "Échirolles",
    "postcodes": ["38130"], "population": 37491, "latitude": 45.1471, "longitude": 5.7153}`"""

    insee: str
    name: str
    postcodes: tuple[str, ...]
    population: int
    latitude: float
    longitude: float


@dataclass(frozen=True)
class TopicInfo:
    """A training topic (SPEC section 5). Labels are short: they go in numbered SMS lists.
    `{"key": "visio", "label_fr": "Appels vidéo", "label_en": "Video calls",
    "inclusion_theme": "numerique--utiliser-le-numerique-au-quotidien"}`"""

    key: str
    label_fr: str
    label_en: str
    inclusion_theme: str | None


@dataclass(frozen=True)
class Neighbourhood:
    """A neighbourhood with an approximate centroid. `{"name": "Villeneuve",
    "commune_insee": "38185", "latitude": 45.162, "longitude": 5.733, "aliases": []}`"""

    name: str
    commune_insee: str
    latitude: float
    longitude: float
    aliases: tuple[str, ...] = ()


# data.inclusion has no theme for e-mail or video calls as such: both are "everyday digital
# use"; security is taught under "digital culture"; housing search has no numerique-- theme.
_TOPICS: tuple[TopicInfo, ...] = (
    TopicInfo("email", "E-mail", "E-mail", "numerique--utiliser-le-numerique-au-quotidien"),
    TopicInfo(
        "demarches",
        "Démarches en ligne",
        "Online paperwork",
        "numerique--devenir-autonome-dans-les-demarches-administratives",
    ),
    TopicInfo("logement", "Chercher un logement", "Housing search", None),
    TopicInfo(
        "smartphone",
        "Smartphone",
        "Smartphone",
        "numerique--prendre-en-main-un-smartphone-ou-une-tablette",
    ),
    TopicInfo(
        "ordinateur", "Ordinateur", "Computer basics", "numerique--prendre-en-main-un-ordinateur"
    ),
    TopicInfo(
        "securite",
        "Arnaques et sécurité",
        "Scams and safety",
        "numerique--approfondir-ma-culture-numerique",
    ),
    TopicInfo(
        "visio", "Appels vidéo", "Video calls", "numerique--utiliser-le-numerique-au-quotidien"
    ),
    TopicInfo(
        "emploi",
        "Recherche d'emploi",
        "Job search",
        "numerique--favoriser-mon-insertion-professionnelle",
    ),
)


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files("config").joinpath(filename).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


@cache
def _communes() -> tuple[Commune, ...]:
    return tuple(
        Commune(
            insee=row["insee"],
            name=row["name"],
            postcodes=tuple(row["postcodes"].split("|")),
            population=int(row["population"]),
            latitude=float(row["lat"]),
            longitude=float(row["lon"]),
        )
        for row in _rows("communes.csv")
    )


@cache
def _neighbourhoods() -> tuple[Neighbourhood, ...]:
    return tuple(
        Neighbourhood(
            name=row["name"],
            commune_insee=row["commune_insee"],
            latitude=float(row["lat"]),
            longitude=float(row["lon"]),
            aliases=tuple(alias for alias in row["aliases"].split("|") if alias),
        )
        for row in _rows("neighbourhoods.csv")
    )


def communes() -> list[Commune]:
    """The 49 communes of Grenoble-Alpes Métropole (see communes-SOURCE.md)."""
    return list(_communes())


def topics() -> list[TopicInfo]:
    """The 8 training topics, in menu order."""
    return list(_TOPICS)


def neighbourhoods() -> list[Neighbourhood]:
    """Neighbourhoods of Grenoble and neighbours (see neighbourhoods-SOURCE.md)."""
    return list(_neighbourhoods())
