"""`handle(state, message, ctx) -> Step`: one message in, the next state, replies and effects out.

Pure: no I/O and no clock. The state is a plain JSON dict the caller stores per address:

    {"step": "choose_slot", "data": {...}, "at": "2025-02-03T08:00:00+00:00",
     "language": "fr", "lock": {"failures": 2}, "opted_out": false}

`language` is the language this step's replies are written in; render them with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows import account, booking, cancel, find, identity
from flows.menu import HELP_INTENTS, acknowledge, asks_after_notice, on_menu, route_intent
from flows.replies import ask_booklet, back_to_start, menu
from flows.slips import PENDING, SEARCH_STEPS, about_a_booking, back, hint, offer_resume, on_resume
from flows.states import LINKED_ONLY, Outcome, State, Turn
from flows.types import (
    CallStart,
    CancelBooking,
    Contact,
    Ctx,
    Input,
    LinkAddress,
    Location,
    OptIn,
    OptOut,
    Rejected,
    Reply,
    ReserveSeat,
    Start,
    Step,
    Text,
)
from flows.understand import Global, global_word

__all__ = ["HANDLERS", "STATE_VERSION", "handle"]

STATE_VERSION = 2  # 1: the first release's dicts (no "v"); read as they are, checked below
StepFunction = Callable[[Turn], Outcome | None]

# One function per state; None means "not understood here" (intents and the hint follow).
HANDLERS: dict[State, StepFunction] = {
    State.ASK_BOOKLET: identity.on_ask_booklet,
    State.ASK_CODE: identity.on_ask_code,
    State.MENU: on_menu,
    State.ASK_PLACE: find.on_ask_place,
    State.CHOOSE_PLACE: find.on_choose_place,
    State.CHOOSE_TOPIC: find.on_choose_topic,
    State.CHOOSE_SLOT: find.on_choose_slot,
    State.CONFIRM_SLOT: booking.on_confirm_slot,
    State.CHOOSE_BOOKING: cancel.on_choose_booking,
    State.CONFIRM_CANCEL: cancel.on_confirm_cancel,
    State.HELP: account.on_help,
    State.WRITE_HELP: account.on_write_help,
    State.CHOOSE_LANGUAGE: account.on_choose_language,
    State.RESUME: on_resume,
}

# What each step's data must hold to take its question up again; a state saved without it
# (an older release, a damaged row) restarts with a short apology instead of failing.
NEEDS: dict[State, dict[str, type]] = {
    State.ASK_CODE: {"number": str},
    State.CHOOSE_PLACE: {"points": list},
    State.CHOOSE_TOPIC: {"point": list},
    State.CHOOSE_SLOT: {"point": list, "slots": list},
    State.CONFIRM_SLOT: {"slot": int},
    State.CHOOSE_BOOKING: {"bookings": list},
    State.CONFIRM_CANCEL: {"booking": int},
    State.RESUME: {"pending": dict},
}


@dataclass
class Saved:
    """The stored state, read defensively: a damaged dict restarts the conversation."""

    step: State | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    language: str | None = None
    lock: dict[str, Any] = field(default_factory=dict)
    opted_out: bool = False
    version: int = 1


def _moment(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _load(state: dict[str, Any] | None) -> Saved:
    if not isinstance(state, dict):
        return Saved()
    step = state.get("step")
    data, lock = state.get("data"), state.get("lock")
    return Saved(
        step=State(step) if step in set(State) else None,
        data=dict(data) if isinstance(data, dict) else {},
        at=_moment(state.get("at")),
        language=state.get("language") if isinstance(state.get("language"), str) else None,
        lock=dict(lock) if isinstance(lock, dict) else {},
        opted_out=state.get("opted_out") is True,
        version=int(state["v"]) if isinstance(state.get("v"), int) else 1,
    )


def _dump(saved: Saved, outcome: Outcome | None, turn: Turn) -> dict[str, Any]:
    step = outcome.state if outcome else saved.step
    return {
        "v": STATE_VERSION,
        "step": step.value if step else None,
        "data": outcome.data if outcome else saved.data,
        "at": turn.now.isoformat(),
        "language": (outcome.language if outcome else None) or turn.language,
        "lock": turn.lock,
        "opted_out": saved.opted_out,
    }


def _language(saved: Saved, ctx: Ctx) -> str:
    """The beneficiary's language, else the one chosen in this conversation, else French."""
    available = ctx.settings.languages or ("fr",)
    preferred = ctx.beneficiary.language if ctx.beneficiary else None
    for candidate in (preferred, saved.language):
        if candidate in available:
            return str(candidate)
    return "fr" if "fr" in available else available[0]


def _live_lock(lock: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The lock, forgotten once its 15 minutes are over."""
    if "until" in lock and identity.locked_until(lock, now) is None:
        return {}
    return lock


def _usable(saved: Saved) -> bool:
    """The saved step can be taken up: a version we know, and the data its step needs."""
    if saved.step is None:
        return True
    if saved.version > STATE_VERSION:
        return False
    needs = NEEDS.get(saved.step, {})
    return all(isinstance(saved.data.get(key), kind) for key, kind in needs.items())


def _idle(saved: Saved, ctx: Ctx) -> bool:
    if saved.step is None:
        return True
    return saved.at is None or ctx.now - saved.at > ctx.settings.conversation_timeout


def handle(state: dict[str, Any] | None, message: Input, ctx: Ctx) -> Step:
    """One message in; the next state, the replies and the effects out."""
    saved = _load(state)
    turn = Turn(ctx, message, saved.data, _language(saved, ctx), _live_lock(saved.lock, ctx.now))
    if isinstance(message, Rejected):
        return _step(saved, turn, _rejected(turn, message))
    apology: list[Reply] = []
    if _idle(saved, ctx) or isinstance(message, CallStart):
        saved.step, turn.data, turn.fresh = None, {}, True
    elif not _usable(saved):
        saved.step, turn.data, apology = None, {}, [Reply("error.restart")]
    opted_out = saved.opted_out or bool(ctx.beneficiary and ctx.beneficiary.opted_out)
    said = turn.heard.opt_out if isinstance(message, Text) else None
    if said == "start" or (opted_out and isinstance(message, Start)):
        saved.opted_out = False
        return _step(saved, turn, _opt_in(turn, opted_out))
    if opted_out:
        saved.opted_out = True  # silence until START: nothing to send, nothing changes
        why = [Reply("voice.opted_out")] if isinstance(message, CallStart) else []
        return Step(_dump(saved, None, turn), why, [])  # a caller hears why, then goodbye
    if said == "stop":
        saved.opted_out = True
        restart = State.MENU if ctx.beneficiary else State.ASK_BOOKLET
        stopped = Outcome(restart, [Reply("optout.done")], [OptOut()])
        return _step(saved, turn, stopped)
    outcome = _answer(saved, turn)
    outcome.replies = [*apology, *outcome.replies]
    return _step(saved, turn, outcome)


def _step(saved: Saved, turn: Turn, outcome: Outcome) -> Step:
    return Step(_dump(saved, outcome, turn), outcome.replies, outcome.effects)


def _opt_in(turn: Turn, was_out: bool) -> Outcome:
    """START: messages resume; the menu (or the booklet question) follows."""
    if not was_out:
        return back_to_start(turn, [])
    return back_to_start(turn, [Reply("optin.done")], [OptIn()])


def _answer(saved: Saved, turn: Turn) -> Outcome:
    """Dispatches on the kind of input, then reads the message in its step."""
    message = turn.message
    linked = turn.ctx.beneficiary is not None
    if isinstance(message, Start):
        return menu(turn, "menu.intro") if linked else identity.on_start(turn, message)
    if isinstance(message, CallStart):
        return menu(turn, "menu.intro") if linked else identity.welcome(turn)
    if isinstance(message, Contact):
        return menu(turn, "menu.intro") if linked else identity.on_contact(turn, message)
    if isinstance(message, Location) and not linked:
        return identity.welcome(turn)
    if isinstance(message, Location):
        return find.from_location(turn, message)
    turn.step = _consistent(saved.step, linked)
    return _linked(turn, turn.step) if linked else _unlinked(turn, turn.step)


def _linked(turn: Turn, step: State) -> Outcome:
    """Global words, then the step, then acks, greetings, "retour", requests, a short re-ask."""
    heard, word = turn.heard, global_word(turn.norm)
    if step is State.WRITE_HELP and word is None and heard.number != 0:
        return account.on_write_help(turn)
    if word is Global.MENU or heard.number == 0 or heard.small == "menu":
        return menu(turn)
    pending: dict[str, Any] | None = None
    if step in PENDING:
        pending = {"step": step.value, "data": turn.data}
    if word is Global.HELP:
        return account.start_help(turn, pending)
    if word is Global.LANGUAGE:
        return account.start_language(turn)
    outcome = HANDLERS[step](turn)
    if outcome is not None:
        return outcome
    if heard.ack and heard.intent is None:
        return acknowledge(turn)
    if heard.greeting:
        return menu(turn, "menu.intro")
    if heard.small in ("back", "no"):
        return back(turn, step)
    if step in SEARCH_STEPS and heard.intent in ("where", "when") and not about_a_booking(turn):
        return hint(turn, step)  # "c'est où ?" about the sessions shown: their question again
    if heard.intent == "message":
        return account.ask_message(turn)
    if heard.intent in HELP_INTENTS and not asks_after_notice(turn):
        return account.start_help(turn, pending)
    routed = route_intent(turn, pending)
    if routed is not None:
        return offer_resume(turn, step, routed)
    return hint(turn, step)


def _unlinked(turn: Turn, step: State) -> Outcome:
    """Help, language and leaving a message work before linking, and while locked."""
    heard, word = turn.heard, global_word(turn.norm)
    words = heard.number is None and not any(char.isdigit() for char in heard.norm)
    if words and heard.language in turn.ctx.settings.languages:
        turn.language = heard.language  # an unknown sender is answered in their language
        # (a choice or a number, "le 2", "PN-0005", says nothing of it)
    outcome = _unlinked_answer(turn, step, heard, word)
    outcome.language = outcome.language or turn.language
    return outcome


def _unlinked_answer(turn: Turn, step: State, heard: Any, word: Global | None) -> Outcome:
    if step is State.WRITE_HELP and word is None and heard.number != 0:
        return account.on_write_help(turn)
    if heard.intent == "message" and step is not State.HELP:
        return account.ask_message(turn)
    if word is Global.HELP or (heard.intent in HELP_INTENTS and step is not State.HELP):
        return account.start_help(turn)
    if word is Global.LANGUAGE:
        return account.start_language(turn)
    if step in (State.HELP, State.CHOOSE_LANGUAGE):
        outcome = HANDLERS[step](turn)
        if outcome is not None:
            return outcome
    if heard.ack and not heard.rest and heard.number is None:
        return acknowledge(turn)
    if identity.locked_until(turn.lock, turn.now):
        return identity.locked(turn)
    if word is Global.MENU:
        return ask_booklet(turn)
    if step is State.ASK_CODE:
        return identity.on_ask_code(turn)
    return identity.on_ask_booklet(turn)


def _consistent(step: State | None, linked: bool) -> State:
    """The step to resume, given whether the address is linked now."""
    if not linked:
        return step if step is not None and step not in LINKED_ONLY else State.ASK_BOOKLET
    if step is None or step in (State.ASK_BOOKLET, State.ASK_CODE):
        return State.MENU
    return step


def _rejected(turn: Turn, rejected: Rejected) -> Outcome:
    """The store refused an effect of the previous step: say so, offer what is next."""
    if isinstance(rejected.effect, LinkAddress):
        return identity.bad_link(turn)
    if turn.ctx.beneficiary is None:
        return back_to_start(turn, [Reply("error.try_again")])
    if isinstance(rejected.effect, ReserveSeat):
        return booking.on_reserve_rejected(turn, rejected)
    if isinstance(rejected.effect, CancelBooking):
        return cancel.on_cancel_rejected(turn, rejected)
    return menu(turn, before=[Reply("error.try_again")])
