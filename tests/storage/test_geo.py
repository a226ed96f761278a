"""Typed places → points: spellings, typos, shared postcodes, neighbourhoods, gibberish."""

from __future__ import annotations

import pytest

from config.reference import communes, neighbourhoods
from storage.geo import PlaceResolver, default_resolver, haversine_km, normalize_name


@pytest.fixture(scope="module")
def resolver() -> PlaceResolver:
    return default_resolver()


def labels(resolver: PlaceResolver, text: str) -> list[str]:
    return [point.label for point in resolver.resolve(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("echiroles", "Échirolles"),
        ("Échirolles", "Échirolles"),
        ("ECHIROLLES", "Échirolles"),
        ("st martin d'heres", "Saint-Martin-d'Hères"),
        ("st-martin-d'hères", "Saint-Martin-d'Hères"),
        ("saint martin d heres", "Saint-Martin-d'Hères"),
        ("St Martin d’Hères", "Saint-Martin-d'Hères"),
        ("smh", "Saint-Martin-d'Hères"),
        ("le pont de claix", "Le Pont-de-Claix"),
        ("pont de claix", "Le Pont-de-Claix"),
        ("Le Pont-de-Claix", "Le Pont-de-Claix"),
        ("grenoble", "Grenoble"),
        ("  Grenoble  ", "Grenoble"),
        ("grenobel", "Grenoble"),
        ("la tronche", "La Tronche"),
        ("fontaine", "Fontaine"),
        ("sassenage", "Sassenage"),
        ("sasenage", "Sassenage"),
        ("meylan", "Meylan"),
        ("meylam", "Meylan"),
        ("st egreve", "Saint-Égrève"),
        ("vif", "Vif"),
        ("claix", "Claix"),
        ("le gua", "Le Gua"),
        ("varces", "Varces-Allières-et-Risset"),
        ("seyssinet", "Seyssinet-Pariset"),
        ("38130", "Échirolles"),
        ("38 000", "Grenoble"),
        ("38000", "Grenoble"),
        ("38100", "Grenoble"),
        ("j'habite à Échirolles", "Échirolles"),
    ],
)
def test_commune_spellings(resolver: PlaceResolver, text: str, expected: str) -> None:
    assert labels(resolver, text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Villeneuve", "Villeneuve (Grenoble)"),
        ("la villeneuve", "Villeneuve (Grenoble)"),
        ("mistral", "Mistral (Grenoble)"),
        ("Teisseire", "Teisseire (Grenoble)"),
        ("ile verte", "Île Verte (Grenoble)"),
        ("Alliés-Alpins", "Alliés-Alpins (Grenoble)"),
        ("village olympique", "Village Olympique (Grenoble)"),
        ("saint bruno", "Saint-Bruno (Grenoble)"),
        ("les essarts", "Les Essarts (Échirolles)"),
        ("La Luire", "La Luire (Échirolles)"),
        ("renaudie", "Renaudie (Saint-Martin-d'Hères)"),
    ],
)
def test_neighbourhoods(resolver: PlaceResolver, text: str, expected: str) -> None:
    assert labels(resolver, text) == [expected]


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [
        ("38320", ["Eybens", "Brié-et-Angonnes", "Poisat", "Herbeys", "Bresson"]),
        ("38450", ["Vif", "Saint-Georges-de-Commiers", "Le Gua", "Notre-Dame-de-Commiers",
                   "Miribel-Lanchâtre"]),
        ("38220", ["Vizille", "Notre-Dame-de-Mésage", "Séchilienne", "Saint-Pierre-de-Mésage",
                   "Saint-Barthélemy-de-Séchilienne", "Montchaboud"]),
        ("38700", ["La Tronche", "Corenc", "Le Sappey-en-Chartreuse", "Sarcenas"]),
    ],
)  # fmt: skip
def test_shared_postcodes_list_every_commune_most_populous_first(
    resolver: PlaceResolver, postcode: str, expected: list[str]
) -> None:
    assert labels(resolver, postcode) == expected


def test_ambiguous_prefix_lists_the_candidates(resolver: PlaceResolver) -> None:
    assert labels(resolver, "saint martin") == ["Saint-Martin-d'Hères", "Saint-Martin-le-Vinoux"]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀", "🏠📍", "azerty", "bonjour", "merci", "oui", "1", "stop", "ville", "crolles",
     "paris", "75001", "38999", "saint", "qwertyuiopasdfgh", "?", "a"],
)  # fmt: skip
def test_unknown_text_resolves_to_nothing(resolver: PlaceResolver, text: str) -> None:
    assert resolver.resolve(text) == []


def test_points_carry_the_centroid(resolver: PlaceResolver) -> None:
    [point] = resolver.resolve("Échirolles")
    assert (point.latitude, point.longitude) == (45.1471, 5.7153)


def test_communes_for_accepts_insee_codes_and_neighbourhoods(resolver: PlaceResolver) -> None:
    assert [c.insee for c in resolver.communes_for("38151")] == ["38151"]
    assert [c.insee for c in resolver.communes_for("Mistral")] == ["38185"]
    assert resolver.commune_by_insee("38421").name == "Saint-Martin-d'Hères"  # type: ignore[union-attr]


def test_normalize_name() -> None:
    assert normalize_name("St-Martin-d'Hères") == "saint martin d heres"
    assert normalize_name("Le Pont-de-Claix") == "pont de claix"
    assert normalize_name("Le") == "le"


def test_haversine() -> None:
    assert haversine_km(45.1822, 5.7211, 45.1822, 5.7211) == 0
    # Grenoble → Échirolles centroids: about 4 km.
    assert haversine_km(45.1822, 5.7211, 45.1471, 5.7153) == pytest.approx(3.93, abs=0.05)


def test_reference_data_is_complete() -> None:
    assert len(communes()) == 49
    insees = {c.insee for c in communes()}
    assert all(hood.commune_insee in insees for hood in neighbourhoods())
