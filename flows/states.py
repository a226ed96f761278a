"""The conversation states, the one table of transitions, and what a step function sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from flows.interpret import Heard, interpret
from flows.types import BeneficiaryView, Ctx, Effect, Input, Reply, Text

__all__ = ["ANY_STATE", "LINKED_ONLY", "PENDING_STEPS", "TRANSITIONS", "Outcome", "State", "Turn"]


class State(StrEnum):
    """Where the conversation is: what the last reply asked. Stored as `state["step"]`."""

    ASK_BOOKLET = "ask_booklet"
    ASK_CODE = "ask_code"
    MENU = "menu"
    ASK_PLACE = "ask_place"
    CHOOSE_PLACE = "choose_place"
    CHOOSE_TOPIC = "choose_topic"
    CHOOSE_SLOT = "choose_slot"
    CONFIRM_SLOT = "confirm_slot"
    CHOOSE_BOOKING = "choose_booking"
    CONFIRM_CANCEL = "confirm_cancel"
    HELP = "help"
    WRITE_HELP = "write_help"
    CHOOSE_LANGUAGE = "choose_language"
    RESUME = "resume"  # a request was answered inside a step: "1" takes the step up again


S = State
# Steps whose question holds a search or a booking: a request answered inside one of them
# offers it back (RESUME, or a last numbered choice of the help and bookings replies).
PENDING_STEPS = frozenset(
    {S.ASK_PLACE, S.CHOOSE_PLACE, S.CHOOSE_TOPIC, S.CHOOSE_SLOT, S.CONFIRM_SLOT, S.CONFIRM_CANCEL}
)
# Reachable from any state: global words (MENU, AIDE, LANGUE, STOP/START), a Telegram
# location or /start, an idle timeout, and free-text intents ("annuler mon rdv").
ANY_STATE = frozenset(
    {
        S.MENU,
        S.ASK_BOOKLET,
        S.HELP,
        S.CHOOSE_LANGUAGE,
        S.ASK_PLACE,
        S.CHOOSE_TOPIC,
        S.CHOOSE_BOOKING,
        S.CONFIRM_CANCEL,
        S.CHOOSE_SLOT,
        S.RESUME,
    }
)  # a request answered inside a step, "retour", a place or day named: see flows.mmd

# What each step can lead to on its own, besides ANY_STATE. flows.mmd draws this table.
TRANSITIONS: dict[State, frozenset[State]] = {
    S.ASK_BOOKLET: frozenset({S.ASK_CODE, S.ASK_BOOKLET, S.MENU}),
    S.ASK_CODE: frozenset({S.ASK_BOOKLET, S.ASK_CODE, S.MENU}),
    S.MENU: frozenset({S.MENU, S.ASK_PLACE, S.CHOOSE_PLACE, S.CHOOSE_BOOKING, S.HELP}),
    S.ASK_PLACE: frozenset({S.ASK_PLACE, S.CHOOSE_PLACE, S.CHOOSE_TOPIC, S.CHOOSE_SLOT, S.MENU}),
    S.CHOOSE_PLACE: frozenset({S.CHOOSE_PLACE, S.CHOOSE_TOPIC, S.CHOOSE_SLOT, S.MENU}),
    S.CHOOSE_TOPIC: frozenset({S.CHOOSE_TOPIC, S.CHOOSE_PLACE, S.CHOOSE_SLOT, S.MENU}),
    S.CHOOSE_SLOT: frozenset({S.CHOOSE_PLACE, S.CONFIRM_SLOT, S.MENU}),
    S.CONFIRM_SLOT: frozenset({S.CONFIRM_SLOT, S.CHOOSE_PLACE, S.MENU}),
    S.CHOOSE_BOOKING: frozenset({S.MENU, *PENDING_STEPS}),
    S.CONFIRM_CANCEL: frozenset({S.MENU}),
    S.HELP: frozenset({S.WRITE_HELP, *PENDING_STEPS}),
    S.WRITE_HELP: frozenset({S.WRITE_HELP, S.MENU, S.ASK_BOOKLET}),
    S.CHOOSE_LANGUAGE: frozenset({S.MENU, S.ASK_BOOKLET}),
    S.RESUME: frozenset({S.MENU, *PENDING_STEPS}),
}

# States that only make sense once the address is linked to a booklet.
LINKED_ONLY = frozenset(
    set(State) - {S.ASK_BOOKLET, S.ASK_CODE, S.HELP, S.WRITE_HELP, S.CHOOSE_LANGUAGE}
)


@dataclass
class Turn:
    """One incoming message, as a step function sees it."""

    ctx: Ctx
    message: Input
    data: dict[str, Any]
    language: str
    lock: dict[str, Any]
    fresh: bool = False  # no conversation before, or it went idle
    step: State | None = None  # the step the message answers
    _heard: Heard | None = field(default=None, repr=False)

    @property
    def heard(self) -> Heard:
        """The message read once by the interpreter (see flows/interpret.py)."""
        if self._heard is None:
            settings = self.ctx.settings
            today = self.ctx.now.astimezone(settings.timezone).date()
            self._heard = interpret(self.text, settings.lexicon, today)
        return self._heard

    @property
    def text(self) -> str:
        return self.message.text if isinstance(self.message, Text) else ""

    @property
    def norm(self) -> str:
        """The message lower-cased, without accents or punctuation (read once, with `heard`)."""
        return self.heard.norm

    @property
    def now(self) -> datetime:
        return self.ctx.now

    @property
    def who(self) -> BeneficiaryView:
        """The linked beneficiary; step functions of LINKED_ONLY states may rely on it."""
        assert self.ctx.beneficiary is not None
        return self.ctx.beneficiary


@dataclass
class Outcome:
    """What a step function decided: the next state, replies, effects, data to keep."""

    state: State
    replies: list[Reply]
    effects: list[Effect] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
