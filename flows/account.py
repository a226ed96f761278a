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
from flows.understand import parse_number

__all__ = [
    "ask_message",
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
_LANGUAGE_NAMES = {"fr": {"francais", "french"}, "en": {"english", "anglais"}}


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


_CALL_WORDS = {"appel", "appels", "telephone", "phone", "call", "calls"}


def choose_reminder_channel(turn: Turn) -> Outcome:
    """'rappels par telegram' / 'par sms' / 'par appel': where reminders go from now on; to
    the menu. Calls only when the deployment offers them (PASSNUM_VOICE_REMINDERS)."""
    if asks_off(turn.norm):
        return toggle_reminders(turn)  # "plus de rappels par sms" means no reminders
    if set(turn.norm.split()) & _CALL_WORDS:
        if not turn.ctx.settings.voice_reminders:
            return Outcome(State.MENU, [Reply("reminders.voice_unavailable")])
        return Outcome(State.MENU, [Reply("reminders.by_voice")], [SetReminderChannel("voice")])
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
    wants = turn.heard.intent in ("message", "human") or yes_or_no(turn) is True
    if number == 1 or (number is None and wants):
        return ask_message(turn)
    return None


def ask_message(turn: Turn) -> Outcome:
    """Asks for the message to leave for an advisor ("laisser un message", from anywhere)."""
    return Outcome(State.WRITE_HELP, [Reply("help.ask_message")])


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
    words = set(turn.heard.words) or {turn.norm}
    named = [c for c in languages if turn.norm == c or words & _LANGUAGE_NAMES.get(c, set())]
    return named[0] if len(named) == 1 else None


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
