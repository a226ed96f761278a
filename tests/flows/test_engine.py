"""The engine's promises: transitions follow the table, the diagram matches it, the state is
plain JSON, locks survive MENU and timeouts, damaged states restart the conversation."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

import flows
from flows import LinkAddress, OptOut, Rejected, ReserveSeat, Start, Text, handle
from flows.states import ANY_STATE, TRANSITIONS, State
from tests.flows.transcript import Session, parse_input

MERMAID = Path(flows.__file__).parent / "flows.mmd"


def _edges_in_diagram() -> set[tuple[str, str]]:
    edges = set()
    for line in MERMAID.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*(\w+)\s*-->(?:\|[^|]*\|)?\s*(\w+)", line)
        if match:
            edges.add((match.group(1), match.group(2)))
    return edges


def test_diagram_draws_the_table() -> None:
    drawn = _edges_in_diagram()
    table = {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}
    assert table - drawn == set(), "edges missing from flows.mmd"
    known = {s.value for s in State} | {"any"}
    assert {a for a, _ in drawn} | {b for _, b in drawn} <= known
    assert set(TRANSITIONS) == set(State)


WALKS = [
    (None, "bonjour PN-0007 9999 PN-0007 4821 2 Grenoble 1 1 oui 3 1 0 5 1 merci"),
    (7, "2 38120 1 2 plus 1 non 0 3 2 oui 4 4 LANGUE 2 1 2 Teisseire 3 1 STOP START"),
    (8, "3 1 2 2 1 1 yes 9 5 0 english 1"),
]


@pytest.mark.parametrize(("who", "words"), WALKS)
def test_transitions_follow_the_table(who: int | None, words: str) -> None:
    session = Session(beneficiary=who)
    previous = None
    for word in words.split():
        session.send(parse_input(word))
        step = json.loads(session.state)["step"]
        if previous is not None and step is not None:
            allowed = TRANSITIONS[State(previous)] | ANY_STATE
            assert State(step) in allowed, (previous, word, step)
        previous = step


def test_lock_survives_menu_and_timeout() -> None:
    session = Session()
    for _ in range(5):
        session.send(Text("PN-0007"))
        session.send(Text("0000"))
    lock = json.loads(session.state)["lock"]
    assert lock["failures"] == 5 and "until" in lock
    assert "Trop d'essais" in session.send(Text("MENU"))[0]
    session.world("wait 14m")
    assert "Trop d'essais" in session.send(Text("PN-0007"))[0]
    session.world("wait 2m")
    session.send(Text("PN-0007"))
    assert session.send(Text("4821"))[0] == "* LinkAddress(beneficiary_id=7)"
    assert json.loads(session.state)["lock"] == {}


def test_a_deep_link_links_one_chat_only() -> None:
    first, second = Session(channel="telegram"), Session(channel="telegram")
    second.directory = first.directory  # two chats, one store
    assert first.send(Start("tok-aicha"))[0] == "* LinkAddress(beneficiary_id=7)"
    answer = second.send(Start("tok-aicha"))
    assert second.beneficiary is None and answer[0].startswith("< Ce lien n'est plus valable")


def test_a_deep_link_spent_meanwhile_links_nothing_and_says_so() -> None:
    """Two chats opened the link at once: the store spent it for the other one."""
    session = Session(channel="telegram")
    state = json.loads(session.state)
    refused = Rejected(LinkAddress(7, link_token="tok-aicha"), "link_used")
    step = handle(state, refused, session.ctx())
    assert step.effects == [] and [r.key for r in step.replies] == ["identity.bad_link"]


def test_nothing_about_the_booklet_before_linking() -> None:
    wrong_code = Session()
    wrong_code.send(Text("PN-0007"))
    unknown = Session()
    unknown.send(Text("PN-9999"))
    assert wrong_code.send(Text("0000")) == unknown.send(Text("0000"))


@pytest.mark.parametrize(
    "state",
    [
        None,
        {},
        {"step": "nope"},
        {"step": 3, "data": []},
        {"step": "confirm_slot", "data": {}, "at": "garbage"},
        {"step": "confirm_cancel", "data": {"x": 1}, "at": None},
    ],
)
def test_damaged_state_restarts(state: object) -> None:
    session = Session(beneficiary=7)
    step = handle(state, Text("oui"), session.ctx())  # type: ignore[arg-type]
    assert step.replies and step.state["step"] == "menu"


def test_state_json_shape() -> None:
    session = Session(beneficiary=7)
    step = handle(None, Text("2"), session.ctx())
    assert set(step.state) == {"v", "step", "data", "at", "language", "lock", "opted_out"}
    assert step.state["at"] == session.now.isoformat()
    assert step.state["language"] == "fr"


def test_opt_out_is_silent_for_every_input() -> None:
    session = Session(beneficiary=7)
    stop = handle(None, Text("STOP"), session.ctx())
    assert stop.effects == [OptOut()]
    for message in (Text("1"), Text("AIDE"), Text("LANGUE"), Text("")):
        silent = handle(stop.state, message, session.ctx())
        assert silent.replies == [] and silent.effects == [] and silent.state["opted_out"]
    assert handle(stop.state, Start(), session.ctx()).replies


def test_rejected_with_a_state_that_lost_its_search() -> None:
    session = Session(beneficiary=7)
    step = handle({"step": "menu"}, Rejected(ReserveSeat(1), "slot_full"), session.ctx())
    assert [r.key for r in step.replies][0] == "book.slot_full"


def test_rejected_unknown_reason_and_unlinked() -> None:
    session = Session(beneficiary=7)
    step = handle(None, Rejected(ReserveSeat(1), "weird"), session.ctx())
    assert step.replies[0].key == "error.try_again"
    unlinked = Session()
    step = handle(None, Rejected(ReserveSeat(1), "slot_full"), unlinked.ctx())
    assert step.replies[0].key == "error.try_again"


def test_idle_time_is_a_setting() -> None:
    session = Session(beneficiary=7)
    session.send(Text("2"))
    session.world("wait 10m")
    ctx = session.ctx()
    short = type(ctx.settings)(conversation_timeout=timedelta(minutes=5))
    step = handle(
        json.loads(session.state),
        Text("1"),
        type(ctx)(ctx.now, ctx.channel, ctx.address, ctx.beneficiary, ctx.directory, short),
    )
    assert step.replies[0].key == "balance.summary"


def test_an_unknown_sender_keeps_english_when_sending_a_number() -> None:
    """ "hello", then "le 2" or a booklet number: still answered in English."""
    session = Session(beneficiary=None)
    for text in ("hello", "le 2", "PN-0008"):
        step = handle(json.loads(session.state), Text(text), session.ctx())
        session.state = json.dumps(step.state)
        assert step.state["language"] == "en", text
