"""What the conversation costs the person: SMS segments of the canonical booking journey,
and old saved states that still resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows import Text, handle, render_sms, sms_segments
from tests.flows.fakes import PARIS
from tests.flows.transcript import CATALOGS, Session

SAVED_V1 = json.loads((Path(__file__).parent / "saved_states_v1.json").read_text("utf-8"))


def _segments(session: Session, text: str) -> list[int]:
    before = json.loads(session.state)
    step = handle(before, Text(text), session.ctx())
    session.state = json.dumps(step.state)
    for effect in step.effects:
        session.directory.apply(session.beneficiary, effect)
    texts = render_sms(step.replies, CATALOGS, step.state["language"], PARIS)
    return [sms_segments(t) for t in texts]


@pytest.mark.parametrize(
    ("who", "journey"),
    [
        (11, ["bonjour", "2", "1", "oui"]),  # a person whose commune is known
        (7, ["bonjour", "grenoble", "1", "oui"]),  # unknown: the menu asks for the commune
        (8, ["hello", "grenoble", "1", "yes"]),  # the same in English
        (11, ["je veux un atelier a fontaine", "1", "oui"]),  # the whole request in one SMS
        (7, ["je veux un atelier a fontaine", "1", "oui"]),
    ],
)
def test_canonical_booking_costs_at_most_four_segments(who: int, journey: list[str]) -> None:
    session = Session(beneficiary=who)
    costs = [_segments(session, text) for text in journey]
    assert "ReserveSeat" not in session.state  # booked through the effects, not the state
    assert json.loads(session.state)["step"] == "menu"
    assert sum(sum(c) for c in costs) <= 4, costs
    assert all(len(c) == 1 for c in costs), costs  # one SMS per message


@pytest.mark.parametrize("step", sorted(SAVED_V1))
def test_a_state_saved_by_the_first_release_resumes(step: str) -> None:
    """Today's format (no "v", dict data) resumes: the same answers work, nothing raises."""
    saved = SAVED_V1[step]
    session = Session(beneficiary=saved["beneficiary"], channel=saved["channel"])
    for text in ("1", "oui", "retour", "xyz", "combien il me reste"):
        result = handle(saved["state"], Text(text), session.ctx())
        assert result.replies or result.state["step"] == saved["state"]["step"]
        assert result.state["v"] == 2


@pytest.mark.parametrize(
    "state",
    [
        {"step": "choose_slot", "data": {"topic": None}},
        {"step": "confirm_slot", "data": {"point": ["Grenoble", 45.1, 5.7]}},
        {"step": "confirm_cancel", "data": {}},
        {"step": "resume", "data": {"pending": "broken"}},
        {"v": 99, "step": "choose_slot", "data": {"point": [1], "slots": []}},
    ],
)
def test_a_state_missing_its_data_restarts_with_an_apology(state: dict[str, object]) -> None:
    session = Session(beneficiary=7)
    state = {**state, "at": session.now.isoformat()}
    result = handle(state, Text("1"), session.ctx())
    assert result.replies[0].key == "error.restart"


@pytest.mark.parametrize(("who", "label"), [(7, "menu.find_place"), (11, "menu.find")])
def test_the_menu_asks_for_the_commune_when_it_is_unknown(who: int, label: str) -> None:
    """The journey above names the commune at the menu because the menu says to."""
    session = Session(beneficiary=who)
    step = handle(None, Text("bonjour"), session.ctx())
    assert step.replies[0].choices[1].key == label
