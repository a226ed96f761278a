"""Booking a chosen slot, and what to say when the store refuses it."""

from __future__ import annotations

from flows.find import no_voucher, show_slots, slot_params
from flows.replies import menu
from flows.states import Outcome, State, Turn
from flows.types import Rejected, Reply, ReserveSeat
from flows.understand import parse_number, parse_yes_no

__all__ = ["on_confirm_slot", "on_reserve_rejected", "yes_or_no"]


def yes_or_no(turn: Turn) -> bool | None:
    """1 / oui / ok → True; 2 / non → False; else None."""
    number = parse_number(turn.norm)
    if number in (1, 2):
        return number == 1
    return parse_yes_no(turn.norm)


def on_confirm_slot(turn: Turn) -> Outcome | None:
    """Books the slot on yes; back to the list on no."""
    answer = yes_or_no(turn)
    if answer is None:
        return None
    point, topic = turn.data.get("point"), turn.data.get("topic")
    if not answer:
        if point is None:
            return menu(turn)
        return show_slots(turn, point, topic, int(turn.data.get("offset", 0)))
    slot_id = int(turn.data["slot"])
    slot = turn.ctx.directory.slot(slot_id)
    if slot is None:
        return _again(turn, "book.slot_gone")
    done = Reply("book.done", slot_params(slot))
    return Outcome(State.MENU, [done], [ReserveSeat(slot_id)])


def _again(turn: Turn, key: str) -> Outcome:
    """Says what went wrong, then shows the first slots of the same search again."""
    point = turn.data.get("point")
    if not isinstance(point, list) or len(point) != 3:
        return menu(turn, before=[Reply(key)])
    return show_slots(turn, point, turn.data.get("topic"), 0, before=[Reply(key)])


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
