"""Whatever is typed, in whatever state: no exception, an answer (unless opted out), and
every SMS within its budget and in the GSM-7 alphabet."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import Text, gsm7_length, handle, is_gsm7, render_telegram
from flows.render import SMS_BUDGET, SMS_CHOICES_BUDGET, _Writer, sms_text
from flows.states import State
from tests.flows.fakes import PARIS
from tests.flows.transcript import CATALOGS, Session, parse_input

# Scripts that walk through every state; the state after each message is collected.
SCRIPTS: list[tuple[int | None, list[str]]] = [
    (None, ["bonjour", "PN-0007", "1", "2", "3", "4", "5", "6"]),
    (None, ["aide", "1", "LANGUE"]),
    (7, ["2", "38120", "1", "1", "1", "0", "3", "2", "0", "5", "1", "LANGUE", "STOP"]),
    (8, ["2", "Grenoble", "1", "plus", "2", "0", "3", "1"]),
    (7, ["2", "Grenoble", "combien il me reste", "1", "retour"]),
]


@cache
def collected_states() -> list[tuple[int | None, str]]:
    states: list[tuple[int | None, str]] = [(None, "null"), (7, "null"), (7, '{"step": 5}')]
    for who, script in SCRIPTS:
        session = Session(beneficiary=who)
        for line in script:
            session.send(parse_input(line))
            states.append((session.beneficiary, session.state))
    return states


def test_scripts_reach_every_state() -> None:
    reached = {json.loads(state).get("step") for _, state in collected_states() if state != "null"}
    assert {s.value for s in State} <= reached


def _check_sms(replies: list[Any], language: str) -> None:
    writer = _Writer(CATALOGS, language, PARIS, "sms")
    for reply in replies:
        text, _ = sms_text(reply, writer)
        listed = any(choice.request is None for choice in reply.choices)
        assert gsm7_length(text) <= (SMS_CHOICES_BUDGET if listed else SMS_BUDGET), text
        assert is_gsm7(text), text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(min_value=0), text=st.text(max_size=400))
def test_any_text_in_any_state(index: int, text: str) -> None:
    states = collected_states()
    who, state = states[index % len(states)]
    session = Session(beneficiary=who)
    session.state = state
    before = json.loads(state)
    step = handle(before, Text(text), session.ctx())
    json.dumps(step.state)
    opted_out = isinstance(before, dict) and before.get("opted_out") is True
    if not opted_out and not session.heard(text).ack:
        assert step.replies, (state, text)  # only thanks, OK and emoji may get no reply
    language = step.state["language"]
    _check_sms(step.replies, language)
    render_telegram(step.replies, CATALOGS, language, PARIS)


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            [
                "1",
                "2",
                "3",
                "4",
                "5",
                "0",
                "oui",
                "non",
                "plus",
                "Grenoble",
                "38120",
                "STOP",
                "START",
                "AIDE",
                "LANGUE",
                "PN-0007",
                "4821",
                "annuler",
                "",
                "😀",
                "menu",
            ]
        ),
        max_size=12,
    ),
    who=st.sampled_from([None, 7, 8, 9]),
)
def test_random_walks(words: list[str], who: int | None) -> None:
    session = Session(beneficiary=who)
    for word in words:
        session.send(parse_input(word))  # the runner applies effects and checks JSON
        assert json.loads(session.state)["step"] in {s.value for s in State} | {None}
