"""Linking an address to a booklet: booklet number + code, a Telegram contact or a deep link.

Nothing about a booklet is said before the link is made: a wrong number and a wrong code get
the same answer. Five wrong codes lock the address for 15 minutes; the lock lives outside
`data`, so MENU and the idle timeout do not clear it.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from flows.replies import ask_booklet, menu
from flows.states import Outcome, State, Turn
from flows.types import BeneficiaryView, Contact, LinkAddress, Reply, Start

__all__ = [
    "MAX_FAILURES",
    "bad_link",
    "locked_until",
    "on_ask_booklet",
    "on_ask_code",
    "on_contact",
    "on_start",
    "welcome",
]

MAX_FAILURES = 5
MIN_DIGITS = 3  # in a booklet number
LOCK_TIME = timedelta(minutes=15)
_BOOKLET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{2,29}$")
_CODE = re.compile(r"^[A-Za-z0-9-]{1,16}$")
_LABEL_WORDS = {
    "code",
    "secret",
    "mon",
    "c",
    "cest",
    "c'est",
    "est",
    "voici",
    "my",
    "is",
    "the",
    "bonjour",
    "bonsoir",
    "salut",
    "hello",
    "hi",
    "merci",
    "svp",
    "de",
    "ma",
    "here",
    "numero",
    "numéro",
    "n°",
    "no",
    "number",
    "chequier",
    "chéquier",
    "booklet",
    "et",
    "and",
    "le",
}


def welcome(turn: Turn) -> Outcome:
    """Greets an unknown address and asks for the booklet number."""
    return ask_booklet(turn, "identity.welcome")


def linked(turn: Turn, who: BeneficiaryView, link_token: str | None = None) -> Outcome:
    """Links the address and shows the menu with the person's first name."""
    turn.lock.clear()
    if who.language in turn.ctx.settings.languages:
        turn.language = who.language  # from now on the beneficiary's language wins
    effect = LinkAddress(who.id, link_token=link_token)
    outcome = menu(turn, "menu.linked", effects=[effect], who=who)
    outcome.language = turn.language
    return outcome


def _looks_like_booklet(text: str) -> bool:
    """ "PN-0001", "pn0001": a few digits at least ("le 2" is a menu choice, not a booklet)."""
    return bool(_BOOKLET.match(text)) and sum(char.isdigit() for char in text) >= MIN_DIGITS


def _looks_like_code(text: str) -> bool:
    """A verification code is short and has no letters of a booklet prefix ("PN")."""
    return bool(_CODE.match(text)) and len(text) <= 8 and text.isdigit()


def _typed_code(turn: Turn) -> str:
    """The code in "4821.", "code 4821", "le code c'est 48 21": label words and junk dropped."""
    parts = [p for p in re.split(r"[\s,;:.!?]+", turn.text.strip().lower()) if p]
    return "".join(p for p in parts if p not in _LABEL_WORDS)


def _pair(turn: Turn) -> tuple[str, str] | None:
    """'PN-0001 1234', 'pn 0001 code 1234': the booklet number and the code, in one message."""
    parts = [p for p in re.split(r"[\s,;:]+", turn.text.strip()) if p]
    parts = [p for p in parts if p.lower() not in _LABEL_WORDS]
    if len(parts) == 3 and parts[0].isalpha() and parts[1].isdigit():
        parts = [parts[0] + parts[1], parts[2]]  # "PN 0001 1234"
    if len(parts) == 2 and _looks_like_booklet(parts[0]) and _CODE.match(parts[1]):
        return parts[0].upper(), parts[1]
    return None


def on_ask_booklet(turn: Turn) -> Outcome:
    """Reads the booklet number (or 'number code' in one message), then asks the code.
    After a wrong pair, a lone code is checked with the number given before."""
    pair = _pair(turn)
    if pair:
        return check_code(turn, *pair)
    typed = "".join(turn.text.split())
    if turn.ctx.channel == "voice" and typed.isdigit() and 3 <= len(typed) <= 30:
        # keyed on a phone: the booklet number's digits (the code is asked next)
        return Outcome(State.ASK_CODE, [Reply("identity.ask_code")], data={"number": typed})
    previous = str(turn.data.get("number", ""))
    if previous and _looks_like_code(_typed_code(turn)):
        return check_code(turn, previous, _typed_code(turn))
    number = typed.upper()
    if _looks_like_booklet(number) and not _looks_like_code(typed):
        return Outcome(State.ASK_CODE, [Reply("identity.ask_code")], data={"number": number})
    if turn.fresh or turn.heard.greeting:
        return welcome(turn)
    if turn.heard.intent is not None:
        return ask_booklet(turn)  # understood ("mes rdv"), but the booklet must come first
    return ask_booklet(turn, "identity.ask_booklet_again")


def on_ask_code(turn: Turn) -> Outcome:
    """Checks the verification code of the booklet number given just before."""
    code = _typed_code(turn)
    number = str(turn.data.get("number", ""))
    if not number:
        return ask_booklet(turn)
    pair = _pair(turn)
    if pair:
        return check_code(turn, *pair)
    sentence = len(turn.text.split()) > 1 and not any(char.isdigit() for char in code)
    if not _CODE.match(code) or sentence:  # "c'est où le code ?" is not a wrong code
        return Outcome(State.ASK_CODE, [Reply("identity.ask_code_again")], data=turn.data)
    return check_code(turn, number, code)


def check_code(turn: Turn, number: str, code: str) -> Outcome:
    """Links on a right code; counts a wrong one and locks after five."""
    who = turn.ctx.directory.find_booklet(number, code)
    if who is not None:
        return linked(turn, who)
    failures = int(turn.lock.get("failures", 0)) + 1
    turn.lock["failures"] = failures
    if failures >= MAX_FAILURES:
        turn.lock["until"] = (turn.now + LOCK_TIME).isoformat()
        return locked(turn)
    outcome = ask_booklet(turn, "identity.wrong")
    if turn.ctx.channel != "voice":  # keys are asked one at a time on a call
        outcome.data = {"number": number}  # a lone code next is tried with this number
    return outcome


def locked_until(lock: dict[str, object], now: datetime) -> datetime | None:
    """When the address may try codes again, or None if it is not locked."""
    until = lock.get("until")
    if not isinstance(until, str):
        return None
    try:
        moment = datetime.fromisoformat(until)
    except ValueError:
        return None
    if moment.tzinfo is None or moment <= now:
        return None
    return moment


def locked(turn: Turn) -> Outcome:
    """Says when the address may try again; asks nothing."""
    until = locked_until(turn.lock, turn.now) or turn.now + LOCK_TIME
    minutes = max(1, math.ceil((until - turn.now).total_seconds() / 60))
    return Outcome(State.ASK_BOOKLET, [Reply("identity.locked", {"minutes": minutes})])


def on_contact(turn: Turn, contact: Contact) -> Outcome:
    """Links by a shared phone number, only when it is the sender's own."""
    if not contact.is_own:
        return ask_booklet(turn, "identity.contact_not_own")
    who = turn.ctx.directory.beneficiary_by_phone(contact.phone)
    if who is None:
        return ask_booklet(turn, "identity.contact_unknown")
    return linked(turn, who)


def on_start(turn: Turn, start: Start) -> Outcome:
    """Telegram /start: links by the deep-link token (spent by the link), else welcomes."""
    if not start.token:
        return welcome(turn)
    who = turn.ctx.directory.beneficiary_by_link_token(start.token)
    if who is None:
        return bad_link(turn)
    return linked(turn, who, link_token=start.token)


def bad_link(turn: Turn) -> Outcome:
    """A deep link used, replaced, expired or unknown: says so, asks for the booklet."""
    return ask_booklet(turn, "identity.bad_link")
