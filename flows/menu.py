"""The main menu and free-text intents, which lead to the same places."""

from __future__ import annotations

from collections.abc import Callable

from flows.account import (
    choose_reminder_channel,
    show_balance,
    start_help,
    start_language,
    toggle_reminders,
)
from flows.cancel import list_bookings
from flows.find import start_search
from flows.replies import ask_booklet, menu
from flows.states import Outcome, Turn
from flows.understand import Intent, detect_intent, parse_number

__all__ = ["ACTIONS", "not_understood", "on_menu", "route_intent"]

Action = Callable[[Turn], Outcome]

# The numbers of the main menu (replies.menu_reply shows them in this order).
ACTIONS: dict[int, Action] = {
    1: show_balance,
    2: start_search,
    3: list_bookings,
    4: toggle_reminders,
    5: start_help,
}

_INTENTS: dict[Intent, Action] = {
    Intent.BALANCE: show_balance,
    Intent.FIND: start_search,
    Intent.BOOKINGS: list_bookings,
    Intent.CANCEL: list_bookings,
    Intent.CHANNEL: choose_reminder_channel,
    Intent.REMINDERS: toggle_reminders,
    Intent.HELP: start_help,
    Intent.LANGUAGE: start_language,
}
# What an address that is not linked yet may ask for.
_OPEN_INTENTS = {Intent.HELP, Intent.LANGUAGE}


def on_menu(turn: Turn) -> Outcome | None:
    """Reads a menu choice: 1 balance, 2 find, 3 bookings, 4 reminders, 5 help."""
    number = parse_number(turn.norm)
    action = ACTIONS.get(number) if number is not None else None
    return action(turn) if action else None


def route_intent(turn: Turn) -> Outcome | None:
    """Follows a free-text intent ("combien il me reste"), if one is recognised."""
    intent = detect_intent(turn.norm)
    if intent is None:
        return None
    if turn.ctx.beneficiary is None and intent not in _OPEN_INTENTS:
        return None
    return _INTENTS[intent](turn)


def not_understood(turn: Turn) -> Outcome:
    """A short hint and the menu (or the booklet question when not linked)."""
    if turn.ctx.beneficiary is None:
        return ask_booklet(turn, "identity.welcome" if turn.fresh else "identity.ask_booklet_again")
    return menu(turn, "menu.intro" if turn.fresh else "menu.not_understood")
