"""`passnum chat`: talk to the assistant in the terminal, through the same path as the webhooks
(database, state, effects), as an SMS or Telegram user. Scriptable from standard input."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator

from rich.console import Console

from bot.channels.assistant import Assistant, telegram_address
from bot.channels.presenter import Presenter, TelegramMessage, keyboard_rows
from bot.runtime import open_database
from config import Settings
from flows.types import Text
from storage.phones import InvalidPhone, normalize_phone

__all__ = ["chat_lines", "run_chat"]

PROMPT = "vous> "


def chat_lines(
    assistant: Assistant, presenter: Presenter, *, channel: str, address: str, lines: Iterable[str]
) -> Iterator[tuple[str, list[str]]]:
    """For each line typed, the texts the person receives on that channel."""
    for line in lines:
        message = line.rstrip("\n")
        turn = assistant.handle(channel=channel, address=address, message=Text(message))
        if channel == "sms":
            yield message, presenter.sms(turn)
        else:
            yield message, [_telegram_text(m) for m in presenter.telegram(turn)]


def _telegram_text(message: TelegramMessage) -> str:
    rows = keyboard_rows(message) or []
    buttons = " ".join(f"[{label}]" for row in rows for label, _request in row)
    return f"{message.text}\n{buttons}" if buttons else message.text


def _interactive_lines(console: Console) -> Iterator[str]:
    while True:
        try:
            yield console.input(f"[bold cyan]{PROMPT}[/bold cyan]")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return


def run_chat(
    settings: Settings,
    *,
    phone: str,
    channel: str,
    chat_id: int,
    interactive: bool,
    console: Console,
) -> None:
    if channel in ("sms", "voice"):
        try:
            address = normalize_phone(phone)
        except InvalidPhone as problem:
            console.print(f"[red]--phone:[/red] {problem}")
            raise SystemExit(2) from None
    else:
        address = telegram_address(chat_id)
    engine = open_database(settings)
    assistant, presenter = Assistant(engine, settings), Presenter(settings)
    if interactive:
        console.print(
            f"[dim]Chatting as {address} by {channel}. MENU for the menu, Ctrl-D to quit.[/dim]"
        )
        lines: Iterable[str] = _interactive_lines(console)
    else:
        lines = sys.stdin
    if channel == "voice":
        from bot.channels.terminal_voice import call_lines

        talk = call_lines(assistant, presenter, address=address, lines=lines)
    else:
        talk = chat_lines(assistant, presenter, channel=channel, address=address, lines=lines)
    for typed, texts in talk:
        if not interactive:
            print(f"> {typed}")
        for text in texts:
            if interactive:
                console.print(f"[green]{text}[/green]", highlight=False)
            else:
                print(f"< {text}".replace("\n", "\n< "))
        sys.stdout.flush()
    engine.dispose()
