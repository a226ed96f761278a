"""`passnum chat --channel voice`: a phone call played in the terminal. What the call says is
printed, one sentence a line; each line typed is what the caller keys ("1", "0003", "*" to
hear again, "#" for more choices) or says (any words). Same path as the voice webhook."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.channels.assistant import Assistant
from bot.channels.presenter import Presenter
from flows.types import CallStart, Input
from flows.voice import Listen, VoiceTurn, call_words

__all__ = ["call_lines", "call_step"]

LISTENS = {
    Listen.CHOICE: "(one key, or words)",
    Listen.ENTRY: "(keys then #, or words)",
    Listen.RECORD: "(your message, spoken)",
    Listen.HANGUP: "(the call ends)",
}


def _said(turn: VoiceTurn, page: int) -> list[str]:
    return [item.text for item in turn.speech(page)] + [LISTENS.get(turn.listen, "")]


def call_step(
    assistant: Assistant,
    presenter: Presenter,
    *,
    address: str,
    typed: str | None,
    last: VoiceTurn | None = None,
    page: int = 0,
) -> tuple[VoiceTurn, int]:
    """One turn of a call and the page of it to say: `None` rings (the call starts); "*" says
    the last turn again and "#" its next choices (nothing runs); digits are keys, anything else
    words said."""
    if typed in ("*", "#") and last is not None:
        return last, (page + 1) % max(len(last.pages), 1) if typed == "#" else 0
    if typed is None:
        message: Input = CallStart()
    else:
        message = call_words(typed, "") if typed.isdigit() else call_words("", typed)
    turn = assistant.handle(channel="voice", address=address, message=message)
    return presenter.voice(turn), 0


def call_lines(
    assistant: Assistant, presenter: Presenter, *, address: str, lines: Iterable[str]
) -> Iterator[tuple[str, list[str]]]:
    """("[call]", what is said first), then for each line typed, what the call says back."""
    last, page = call_step(assistant, presenter, address=address, typed=None)
    typed = "[call]"
    queue = iter(lines)
    while True:
        yield typed, _said(last, page)
        if last.listen == Listen.HANGUP:
            return
        line = next(queue, None)
        if line is None:
            return
        typed = line.strip()
        last, page = call_step(
            assistant, presenter, address=address, typed=typed, last=last, page=page
        )
