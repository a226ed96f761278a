"""Nothing is lost on a slip: a short re-ask of the same question, one step back, and the
pending question offered back after a request answered inside a step."""

from __future__ import annotations

from typing import Any

from flows.replies import menu
from flows.states import PENDING_STEPS, Outcome, State, Turn

__all__ = [
    "PENDING",
    "SEARCH_STEPS",
    "about_a_booking",
    "back",
    "hint",
    "offer_resume",
    "on_resume",
    "take_up",
]

S = State
PENDING = PENDING_STEPS  # steps whose question holds a search or a booking
SEARCH_STEPS = PENDING_STEPS - {S.CONFIRM_CANCEL}


def about_a_booking(turn: Turn) -> bool:
    """ "c'est où mon rdv ?", or any question just after a reminder: about a booking."""
    from flows.cancel import NOTICE_LIFETIME

    notice = turn.ctx.notice
    fresh = notice is not None and turn.now - notice.sent_at <= NOTICE_LIFETIME
    return fresh or turn.heard.has("intent.bookings")


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    return len(value) if isinstance(value, list) else 0


def _choices(step: State, turn: Turn) -> int:
    """How many numbered choices the step's question showed."""
    data = turn.data
    if step is S.CHOOSE_PLACE:
        return _count(data, "points")
    if step is S.CHOOSE_TOPIC:
        return _count(data, "topics") + 1
    if step is S.CHOOSE_SLOT:
        shown = _count(data, "slots")
        return shown + 1 if data.get("more") is True else shown
    if step is S.CHOOSE_BOOKING:
        return _count(data, "bookings") + (1 if isinstance(data.get("pending"), dict) else 0)
    if step is S.CHOOSE_LANGUAGE:
        return len(turn.ctx.settings.languages)
    return 0


def hint(turn: Turn, step: State) -> Outcome:
    """The same question, short: "Répondez 1 à 4, ou 0 pour le menu." (one SMS)."""
    from flows.find import ask_place, search_of
    from flows.types import Reply

    if step in (S.MENU, S.ASK_BOOKLET, S.ASK_CODE):
        return menu(turn, "menu.intro" if turn.fresh else "menu.not_understood")
    if step is S.ASK_PLACE:
        return ask_place(turn, search_of(turn.data), "find.place_unknown")
    if step in (S.CONFIRM_SLOT, S.CONFIRM_CANCEL):
        return Outcome(step, [Reply("hint.yes_no")], data=turn.data)
    if step is S.HELP:
        return Outcome(step, [Reply("hint.help")], data=turn.data)
    if step is S.RESUME:
        return Outcome(step, [Reply("hint.resume")], data=turn.data)
    count = _choices(step, turn)
    if count < 1:
        return menu(turn, "menu.not_understood")
    key = "hint.one" if count == 1 else "hint.numbers"
    return Outcome(step, [Reply(key, {"last": count})], data=turn.data)


def take_up(turn: Turn, pending: dict[str, Any]) -> Outcome:
    """Asks the pending question again, from its saved data."""
    from flows.cancel import ask_cancel
    from flows.find import _confirm, _to_points, ask_place, ask_topic, search_of, show_slots
    from flows.types import PlacePoint

    step = pending.get("step")
    saved = pending.get("data")
    data: dict[str, Any] = saved if isinstance(saved, dict) else {}
    search = search_of(data)
    if step == S.CHOOSE_PLACE.value and _count(data, "points"):
        points = [PlacePoint(*p) for p in data["points"] if isinstance(p, list) and len(p) == 3]
        return _to_points(turn, search, points)
    if search["point"] is None and step in (S.CHOOSE_TOPIC, S.CHOOSE_SLOT, S.CONFIRM_SLOT):
        step = S.ASK_PLACE.value
    if step == S.ASK_PLACE.value:
        return ask_place(turn, search)
    if step == S.CHOOSE_TOPIC.value:
        return ask_topic(turn, search)
    if step == S.CONFIRM_SLOT.value and isinstance(data.get("slot"), int):
        return _confirm(turn, {**search, "slots": data.get("slots", [])}, data["slot"])
    if step in (S.CHOOSE_SLOT.value, S.CONFIRM_SLOT.value):
        return show_slots(turn, search)
    if step == S.CONFIRM_CANCEL.value:
        booking = next(
            (b for b in turn.ctx.directory.bookings(turn.who.id) if b.id == data.get("booking")),
            None,
        )
        if booking is not None:
            return ask_cancel(turn, booking)
    return menu(turn)


def offer_resume(turn: Turn, step: State, answer: Outcome) -> Outcome:
    """After an answer given inside a step: "… Pour reprendre votre recherche, répondez 1."."""
    from flows.types import Reply

    if step not in PENDING or answer.state is not S.MENU:
        return answer
    key = "resume.offer_cancel" if step is S.CONFIRM_CANCEL else "resume.offer"
    data = {"pending": {"step": step.value, "data": turn.data}}
    return Outcome(S.RESUME, [*answer.replies, Reply(key)], answer.effects, data)


def on_resume(turn: Turn) -> Outcome | None:
    """1, oui, "reprendre": the pending question again; anything else is read as at the menu."""
    from flows.booking import yes_or_no
    from flows.menu import on_menu

    pending = turn.data.get("pending")
    if not isinstance(pending, dict):
        return None
    thanks = turn.heard.has("thanks")  # "ok merci": thanks for the answer, nothing more
    if (
        turn.heard.number == 1
        or turn.heard.has("intent.resume")
        or (turn.heard.number is None and not thanks and yes_or_no(turn) is True)
    ):
        return take_up(turn, pending)
    return on_menu(turn)


def back(turn: Turn, step: State) -> Outcome:
    """ "retour", "non": one step back, the search kept."""
    from flows.find import ask_place, ask_topic, search_of, show_slots

    search = search_of(turn.data)
    if step in (S.CHOOSE_PLACE, S.CHOOSE_TOPIC):
        return ask_place(turn, search)
    if step is S.CHOOSE_SLOT and search["point"] is not None:
        return ask_topic(turn, search) if search["asked_topic"] else ask_place(turn, search)
    if step is S.CONFIRM_SLOT and search["point"] is not None:
        return show_slots(turn, search)
    return menu(turn)
