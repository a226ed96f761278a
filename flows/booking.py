"""Booking a chosen slot, and what to say when the store refuses it."""

from __future__ import annotations

from flows.find import no_voucher, refine, search_of, show_slots, slot_params
from flows.replies import menu
from flows.states import Outcome, State, Turn
from flows.types import Rejected, Reply, ReserveSeat

__all__ = ["on_confirm_slot", "on_reserve_rejected", "yes_or_no"]


def yes_or_no(turn: Turn) -> bool | None:
    """1 / oui / ok / d'accord → True; 2 / non → False; else None."""
    heard = turn.heard
    if heard.number in (1, 2):
        return heard.number == 1
    if heard.small in ("yes", "no"):
        return heard.small == "yes"
    leads = {"intent.yes", "intent.no"} & heard.lead
    named = heard.topic or heard.when or heard.place_words
    if len(leads) == 1 and not (heard.intent == "find" and named):
        return "intent.yes" in leads  # "non c'est trop loin", "oui je prends"
    if heard.has("intent.yes") and not heard.has("intent.no") and heard.intent is None:
        return True if not heard.rest else None
    if heard.has("intent.no") and heard.intent is None and not heard.rest:
        return False
    return None


def on_confirm_slot(turn: Turn) -> Outcome | None:
    """Books the slot on yes; back to the list on no; a new day or place searches again."""
    answer = yes_or_no(turn)
    search = search_of(turn.data)
    heard = turn.heard
    if answer is None and heard.small == "more":
        answer = False  # "un autre", "autre date": back to the list
    named = heard.topic or heard.when or heard.place_words
    if answer is None and heard.intent == "find" and not named:
        answer = True  # "je réserve"
    if answer is None:
        return refine(turn, search) if search["point"] else None
    if not answer:
        if search["point"] is None:
            return menu(turn)
        return show_slots(turn, search)
    slot_id = turn.data.get("slot")
    slot = turn.ctx.directory.slot(slot_id) if isinstance(slot_id, int) else None
    if slot is None:
        return _again(turn, "book.slot_gone")
    done = Reply("book.done", slot_params(slot))
    return Outcome(State.MENU, [done], [ReserveSeat(slot.id)])


def _again(turn: Turn, key: str) -> Outcome:
    """Says what went wrong, then shows the first slots of the same search again."""
    search = search_of(turn.data)
    if search["point"] is None:
        return menu(turn, before=[Reply(key)])
    return show_slots(turn, search, before=[Reply(key)])


def on_reserve_rejected(turn: Turn, rejected: Rejected) -> Outcome:
    """Explains why the seat was refused and offers another slot or the menu."""
    reason = rejected.reason
    if reason in ("slot_full", "slot_gone"):
        return _again(turn, f"book.{reason}")
    if reason == "no_voucher":
        return no_voucher(turn)
    if reason == "already_booked":
        return menu(turn, before=[Reply("book.already_booked")])
    return menu(turn, before=[Reply("error.try_again")])
