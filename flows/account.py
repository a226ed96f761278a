"""Balance, reminders on/off, help from an advisor, and the language."""

from __future__ import annotations

from typing import Any

from flows.booking import yes_or_no
from flows.replies import back_to_start
from flows.states import Outcome, State, Turn
from flows.types import (
    Choice,
    LeaveHelpMessage,
    Reply,
    SetLanguage,
    SetReminderChannel,
    SetReminders,
)
from flows.understand import normalize, parse_number

__all__ = [
    "choose_reminder_channel",
    "on_choose_language",
    "on_help",
    "on_write_help",
    "show_balance",
    "start_help",
    "start_language",
    "toggle_reminders",
]

MAX_HELP_MESSAGE = 1600
# Names people type for a language; the catalog's own name ("Français") is matched as well.
_LANGUAGE_NAMES = {"fr": {"francais", "french", "fr"}, "en": {"english", "anglais", "en"}}


def show_balance(turn: Turn) -> Outcome:
    """Says how many vouchers are left, their value and first expiry; back to the menu."""
    balance = turn.ctx.directory.balance(turn.who.id)
    params: dict[str, object] = {
        "available": balance.available,
        "reserved": balance.reserved,
        "value_cents": balance.value_cents,
        "next_expiry_on": balance.next_expiry,
    }
    if balance.available <= 0:
        params["phone"] = turn.ctx.directory.help_contact(turn.who.id).phone
        return Outcome(State.MENU, [Reply("balance.empty", params)])
    key = "balance.summary" if balance.next_expiry else "balance.summary_no_expiry"
    return Outcome(State.MENU, [Reply(key, params)])


_SWITCH_OFF = {
    "plus",
    "pas",
    "arret",
    "arreter",
    "stop",
    "off",
    "no",
    "non",
    "sans",
    "dont",
    "disable",
    "couper",
    "supprimer",
}
_SWITCH_ON = {"on", "activer", "remettre", "enable", "oui", "yes"}


def asks_off(norm: str) -> bool:
    """'je ne veux plus…', 'stop…', 'no…': the person wants something switched off."""
    return bool(set(norm.replace("'", " ").split()) & _SWITCH_OFF)


def wanted_reminders(norm: str, current: bool) -> bool:
    """'je ne veux plus de rappels' → off, 'remettre les rappels' → on; else the opposite."""
    words = set(norm.replace("'", " ").split())
    if asks_off(norm):
        return False
    if words & _SWITCH_ON:
        return True
    return not current


def choose_reminder_channel(turn: Turn) -> Outcome:
    """'rappels par telegram' / 'par sms': where reminders go from now on; to the menu."""
    if asks_off(turn.norm):
        return toggle_reminders(turn)  # "plus de rappels par sms" means no reminders
    channel = "telegram" if "telegram" in turn.norm.split() else "sms"
    return Outcome(State.MENU, [Reply(f"reminders.by_{channel}")], [SetReminderChannel(channel)])


def toggle_reminders(turn: Turn) -> Outcome:
    """Turns reminders off or on as asked (a bare menu choice switches them); to the menu."""
    enabled = wanted_reminders(turn.norm, turn.who.reminders_enabled)
    key = "reminders.on" if enabled else "reminders.off"
    return Outcome(State.MENU, [Reply(key)], [SetReminders(enabled)])


def start_help(turn: Turn, pending: dict[str, Any] | None = None) -> Outcome:
    """Gives the advisor's phone and hours; offers to leave a message (or the search back)."""
    who = turn.ctx.beneficiary
    contact = turn.ctx.directory.help_contact(who.id if who else None)
    choices: tuple[Choice, ...] = (Choice(1, "help.leave_message"),)
    if pending:
        choices = (*choices, Choice(2, "resume.choice"))
    reply = Reply("help.contact", {"phone": contact.phone, "hours": contact.hours}, choices)
    return Outcome(State.HELP, [reply], data={"pending": pending} if pending else {})


def on_help(turn: Turn) -> Outcome | None:
    """On 1 (or yes), asks for the message to leave; on 2, the pending question again."""
    number = turn.heard.number
    pending = turn.data.get("pending")
    if number == 2 and isinstance(pending, dict):
        from flows.slips import take_up

        return take_up(turn, pending)
    if number == 1 or (number is None and yes_or_no(turn)):
        return Outcome(State.WRITE_HELP, [Reply("help.ask_message")])
    return None


def on_write_help(turn: Turn) -> Outcome:
    """Passes the message on to staff and thanks the person."""
    text = turn.text.strip()[:MAX_HELP_MESSAGE]
    if not turn.norm:
        return Outcome(State.WRITE_HELP, [Reply("help.ask_message")])
    return back_to_start(turn, [Reply("help.thanks")], [LeaveHelpMessage(text)])


def start_language(turn: Turn) -> Outcome:
    """Asks which language, each named in itself."""
    languages = turn.ctx.settings.languages
    choices = tuple(
        Choice(i + 1, "language.name", {"_language": code}) for i, code in enumerate(languages)
    )
    return Outcome(State.CHOOSE_LANGUAGE, [Reply("language.choose", {}, choices)])


def _language_named(turn: Turn) -> str | None:
    languages = turn.ctx.settings.languages
    number = parse_number(turn.norm)
    if number is not None and 1 <= number <= len(languages):
        return languages[number - 1]
    for code in languages:
        if turn.norm in _LANGUAGE_NAMES.get(code, {normalize(code)}):
            return code
    return None


def on_choose_language(turn: Turn) -> Outcome | None:
    """Sets the chosen language; answers in it from now on."""
    code = _language_named(turn)
    if code is None:
        return None
    turn.language = code
    effects = [SetLanguage(code)] if turn.ctx.beneficiary else []
    outcome = back_to_start(turn, [Reply("language.done")], effects)
    outcome.language = code
    return outcome
