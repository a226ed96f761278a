"""Reply builders shared by the flows: the main menu and yes/no questions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flows.states import Outcome, State, Turn
from flows.types import BeneficiaryView, Choice, Effect, Reply

__all__ = ["YES_NO", "ask_booklet", "back_to_start", "menu", "menu_reply", "numbered"]

YES_NO = (Choice(1, "choice.yes"), Choice(2, "choice.no"))


def menu_reply(who: BeneficiaryView, header: str = "menu.again", **params: Any) -> Reply:
    """The main menu under a header line; it fits one SMS. A person whose commune we do not
    know is told to send it: "fontaine" at the menu shows the sessions there, so a booking
    costs four SMS (menu, sessions, confirmation, booked) as it does for everyone else."""
    reminders = "menu.reminders_off" if who.reminders_enabled else "menu.reminders_on"
    choices = (
        Choice(1, "menu.balance"),
        Choice(2, "menu.find" if who.commune else "menu.find_place"),
        Choice(3, "menu.bookings"),
        Choice(4, reminders),
        Choice(5, "menu.help"),
    )
    params = {"first_name": who.first_name, "_footer": "menu.footer", **params}
    return Reply(header, params, choices)


def menu(
    turn: Turn,
    header: str = "menu.again",
    before: list[Reply] | None = None,
    effects: Sequence[Effect] = (),
    who: BeneficiaryView | None = None,
) -> Outcome:
    """Shows the main menu, after `before` replies; waits for a menu choice."""
    person = who or turn.who
    replies = [*(before or []), menu_reply(person, header)]
    return Outcome(State.MENU, replies, list(effects))


def ask_booklet(
    turn: Turn, key: str = "identity.ask_booklet", before: list[Reply] | None = None
) -> Outcome:
    """Asks an address that is not linked yet for its booklet number."""
    contact = (Choice(1, "identity.share_contact", request="contact"),)
    return Outcome(State.ASK_BOOKLET, [*(before or []), Reply(key, {}, contact)])


def back_to_start(turn: Turn, before: list[Reply], effects: Sequence[Effect] = ()) -> Outcome:
    """The menu when linked, else the booklet question, after `before` replies."""
    if turn.ctx.beneficiary is None:
        outcome = ask_booklet(turn, before=before)
        outcome.effects = list(effects)
        return outcome
    return menu(turn, before=before, effects=effects)


def numbered(key: str, items: list[dict[str, Any]], start: int = 1) -> tuple[Choice, ...]:
    """Numbered choices of one catalog key, one per item of parameters."""
    return tuple(Choice(start + i, key, params) for i, params in enumerate(items))
