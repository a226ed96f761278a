"""`passnum chat --channel voice`: a phone call played in the terminal. What the call says is
printed, one sentence a line; each line typed is what the caller keys ("1", "0003", "*" to
hear again, "#" for more choices) or says (any words). Same path as the voice webhook."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.assistant import Assistant
from bot.presenter import Presenter
from flows.types import CallStart, Input
from flows.voice import Listen, VoiceTurn, call_words

__all__ = ["call_lines"]

LISTENS = {
    Listen.CHOICE: "(one key, or words)",
    Listen.ENTRY: "(keys then #, or words)",
    Listen.RECORD: "(your message, spoken)",
    Listen.HANGUP: "(the call ends)",
}


def _said(turn: VoiceTurn, page: int) -> list[str]:
    return [item.text for item in turn.speech(page)] + [LISTENS.get(turn.listen, "")]


def call_lines(
    assistant: Assistant, presenter: Presenter, *, address: str, lines: Iterable[str]
) -> Iterator[tuple[str, list[str]]]:
    """("[call]", what is said first), then for each line typed, what the call says back."""
    message: Input = CallStart()
    typed, page = "[call]", 0
    last: VoiceTurn | None = None
    queue = iter(lines)
    while True:
        if message is not None:
            turn = assistant.handle(channel="voice", address=address, message=message)
            last, page = presenter.voice(turn), 0
        assert last is not None
        yield typed, _said(last, page)
        if last.listen == Listen.HANGUP:
            return
        line = next(queue, None)
        if line is None:
            return
        typed = line.strip()
        if typed in ("*", "#"):  # said again, or the next choices: nothing runs
            page = (page + 1) % max(len(last.pages), 1) if typed == "#" else 0
            message = None  # type: ignore[assignment]
            continue
        message = call_words("", typed) if not typed.isdigit() else call_words(typed, "")
