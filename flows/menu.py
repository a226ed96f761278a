"""The main menu and the requests that work from any step, which lead to the same places."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows.account import (
    ask_message,
    choose_reminder_channel,
    show_balance,
    start_help,
    start_language,
    toggle_reminders,
)
from flows.cancel import NOTICE_LIFETIME, booking_info, cancel_request, list_bookings
from flows.find import start_search
from flows.places import named_places
from flows.states import Outcome, State, Turn

__all__ = ["ACTIONS", "HELP_INTENTS", "acknowledge", "asks_after_notice", "on_menu", "route_intent"]

Action = Callable[[Turn], Outcome]
# Asking for help, for a person, or saying one is lost ("c'est quoi ?"): the advisor's contact.
HELP_INTENTS = ("help", "human", "confused")

# The numbers of the main menu (replies.menu_reply shows them in this order).
ACTIONS: dict[int, Action] = {
    1: show_balance,
    2: start_search,
    3: list_bookings,
    4: toggle_reminders,
    5: start_help,
}


def on_menu(turn: Turn) -> Outcome | None:
    """Reads a menu choice (1 balance, 2 find, 3 bookings, 4 reminders, 5 help), or a place
    named alone ("fontaine"): the slots there."""
    number = turn.heard.number
    action = ACTIONS.get(number) if number is not None else None
    if action:
        return action(turn)
    if turn.heard.intent is None and not turn.heard.has("intent.no"):
        points = named_places(turn)
        if points:
            return start_search(turn)
    return None


def route_intent(turn: Turn, pending: dict[str, Any] | None = None) -> Outcome | None:
    """Follows a request typed in words ("combien il me reste"), from any step."""
    intent = turn.heard.intent
    if intent is None:
        return None
    if intent in ("cancel", "cant_come"):
        return cancel_request(turn, pending)
    if asks_after_notice(turn):
        return booking_info(turn)
    if intent == "bookings" and _cancel_word(turn):
        return cancel_request(turn, pending)
    if intent == "bookings":
        return list_bookings(turn, pending)
    if intent in ("when", "where"):
        return booking_info(turn)
    if intent == "coming":
        return acknowledge(turn, "ack.coming")
    simple: dict[str, Action] = {
        "find": start_search,
        "balance": show_balance,
        "channel": choose_reminder_channel,
        "reminders": toggle_reminders,
        "help": start_help,
        "human": start_help,
        "confused": start_help,
        "message": ask_message,
        "language": start_language,
    }
    return simple[intent](turn) if intent in simple else None


def _cancel_word(turn: Turn) -> bool:
    """ "RDV" alone, just after a reminder that says "Pour annuler, envoyez RDV"."""
    return _fresh_notice(turn) and turn.heard.words in (("rdv",), ("mon", "rdv"), ("le", "rdv"))


def asks_after_notice(turn: Turn) -> bool:
    """Just after a reminder, "where is the place", "rappelez-moi l'adresse" are about it."""
    heard = turn.heard
    return _fresh_notice(turn) and (heard.has("intent.where") or heard.has("intent.when"))


def _fresh_notice(turn: Turn) -> bool:
    notice = turn.ctx.notice
    return notice is not None and turn.now - notice.sent_at <= NOTICE_LIFETIME


def acknowledge(turn: Turn, key: str | None = None) -> Outcome:
    """Thanks, OK, an emoji: nothing (or one short line); the step stays where it was."""
    from flows.types import Reply

    replies = [Reply(key)] if key else []
    return Outcome(turn.step or State.MENU, replies, data=turn.data)
