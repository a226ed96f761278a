"""Replays conversation transcripts against flows.handle, the way bot/ does.

A transcript file:

    # channel: sms                  headers first: channel, beneficiary (id or none), now
    # beneficiary: 7
    # now: 2025-02-03T09:00:00+01:00
    > 1                             what the person sends (see `parse_input` for Telegram)
    < Chèques disponibles : 4       the first line of each message; `|` continues it
    | Valeur : 10 € chacun
    = [1. Oui]                      Telegram keyboard, one row a line
    * ReserveSeat(slot_id=101)      an effect the step asked for (refused ones say why)
    ! wait 31m                      the world changes: wait, full SLOT, gone SLOT, vouchers N

The state is dumped to JSON and loaded again between steps; refused effects are fed back
as `Rejected` with the previous state, like bot/channels/assistant.py does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from config.catalogs import load_catalogs
from config.lexicon import load_lexicons
from flows import (
    BookingNotice,
    Contact,
    Ctx,
    FlowSettings,
    Input,
    LinkAddress,
    Location,
    Rejected,
    Start,
    Step,
    Text,
    render_sms,
    render_telegram,
)
from flows.interpret import Heard, interpret
from flows.lexicon import build_lexicon
from tests.flows.fakes import PARIS, FakeDirectory, Refused

CATALOGS = load_catalogs()
SETTINGS = FlowSettings(lexicon=build_lexicon(load_lexicons()), timezone=PARIS)
_WAIT = re.compile(r"^(\d+)([mh])$")
LONG_TEXT = ("Bonjour, je voudrais savoir comment faire pour mon chéquier 😀 " * 40)[:1600]


def parse_input(text: str) -> Input:
    """`[start]`, `[start TOKEN]`, `[contact PHONE own|other]`, `[location LAT LON]`,
    `[long]` (1,600 characters), anything else is typed text."""
    match = re.fullmatch(r"\[(\w+)(?: (.*))?\]", text)
    if not match:
        return Text(text)
    kind, args = match.group(1), (match.group(2) or "").split()
    if kind == "start":
        return Start(args[0] if args else None)
    if kind == "contact":
        return Contact(args[0], args[1] == "own")
    if kind == "location":
        return Location(float(args[0]), float(args[1]))
    if kind == "long":
        return Text(LONG_TEXT)
    raise ValueError(f"unknown input {text!r}")


@dataclass
class Session:
    """One address talking to the flows, with a fake store behind."""

    channel: str = "sms"
    beneficiary: int | None = None
    now: datetime = datetime(2025, 2, 3, 9, tzinfo=PARIS)
    state: str = "null"
    directory: FakeDirectory = field(init=False)
    notice: BookingNotice | None = None

    def __post_init__(self) -> None:
        self.directory = FakeDirectory(self.now)

    def ctx(self) -> Ctx:
        who = self.directory.view(self.beneficiary) if self.beneficiary is not None else None
        address = "+33612345678" if self.channel == "sms" else "tg:4242"
        return Ctx(self.now, self.channel, address, who, self.directory, SETTINGS, self.notice)

    def heard(self, text: str) -> Heard:
        """How the interpreter reads `text` in this session's context."""
        return interpret(text, SETTINGS.lexicon, self.now.astimezone(PARIS).date())

    def send(self, message: Input) -> list[str]:
        """Handle one message; apply its effects; the transcript lines it produced."""
        before = json.loads(self.state)
        step = _handle(before, message, self.ctx())
        lines, step = self._apply(step, before)
        self.state = json.dumps(step.state)
        return lines + self._render(step)

    def _apply(self, step: Step, before: dict[str, Any] | None) -> tuple[list[str], Step]:
        lines = []
        for effect in step.effects:
            try:
                if isinstance(effect, LinkAddress):
                    self.beneficiary = effect.beneficiary_id
                self.directory.apply(self.beneficiary, effect)
                lines.append(f"* {effect!r}")
            except Refused as refused:
                lines.append(f"* {effect!r} refused: {refused.reason}")
                step = _handle(before, Rejected(effect, refused.reason), self.ctx())
                return lines + self._apply(step, before)[0], step
        return lines, step

    def _render(self, step: Step) -> list[str]:
        language = step.state["language"]
        lines: list[str] = []
        if self.channel == "sms":
            for sms in render_sms(step.replies, CATALOGS, language, PARIS):
                lines += _message_lines(sms)
            return lines
        for message in render_telegram(step.replies, CATALOGS, language, PARIS):
            lines += _message_lines(message.text)
            for row in message.keyboard or ():
                lines.append("= " + " ".join(_button(b.label, b.request) for b in row))
        return lines

    def world(self, directive: str) -> None:
        """`wait 31m`, `full 101`, `gone 101`, `vouchers 0`, `notice 201` (we just sent a
        reminder about booking 201)."""
        verb, arg = directive.split()
        if verb == "wait":
            match = _WAIT.match(arg)
            assert match, directive
            unit = {"m": "minutes", "h": "hours"}[match.group(2)]
            self.now += timedelta(**{unit: int(match.group(1))})
            self.directory.now = self.now
        elif verb == "full":
            slot = self.directory.slots[int(arg)]
            slot.booked = slot.capacity
        elif verb == "gone":
            del self.directory.slots[int(arg)]
        elif verb == "notice":
            self.notice = BookingNotice(int(arg), self.now)
        elif verb == "vouchers":
            assert self.beneficiary is not None
            self.directory.holders[self.beneficiary].available = int(arg)
        else:
            raise ValueError(f"unknown directive {directive!r}")


def _handle(state: dict[str, Any] | None, message: Input, ctx: Ctx) -> Step:
    from flows import handle

    step = handle(state, message, ctx)
    json.dumps(step.state)  # must stay plain JSON
    return step


def _message_lines(text: str) -> list[str]:
    first, *rest = text.split("\n")
    return [f"< {first}".rstrip()] + [f"| {line}".rstrip() for line in rest]


def _button(label: str, request: str | None) -> str:
    return f"[{label}]" if request is None else f"[{label} ({request})]"


def session_from_headers(headers: dict[str, str]) -> Session:
    who = headers.get("beneficiary", "none")
    now = datetime.fromisoformat(headers.get("now", "2025-02-03T09:00:00+01:00"))
    return Session(
        channel=headers.get("channel", "sms"),
        beneficiary=None if who == "none" else int(who),
        now=now,
    )


def replay(path: Path) -> tuple[list[str], list[str]]:
    """The file's lines, and the lines as the flows produce them now."""
    expected = path.read_text(encoding="utf-8").splitlines()
    headers = {}
    for line in expected:
        if line.startswith("# ") and ":" in line:
            key, value = line[2:].split(":", 1)
            headers[key.strip()] = value.strip()
    session = session_from_headers(headers)
    actual: list[str] = []
    for line in expected:
        if line.startswith(("<", "|", "=", "*")):
            continue  # produced lines: regenerated below
        actual.append(line)
        if line.startswith(">"):
            actual += session.send(parse_input(line[2:] if len(line) > 1 else ""))
        elif line.startswith("! "):
            session.world(line[2:])
    return expected, actual
