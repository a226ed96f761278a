"""What every `passnum` sub-command shares: settings read once, errors in one line."""

from __future__ import annotations

import typer
from rich.console import Console

from config import Settings, SettingsError, load_settings

__all__ = ["errors", "settings_or_exit"]

errors = Console(stderr=True)


def settings_or_exit() -> Settings:
    """The settings, or a one-line message and exit code 2 when one is wrong."""
    try:
        return load_settings()
    except SettingsError as problem:
        # soft_wrap: the one line stays one line, whatever the terminal's width
        errors.print(f"[red]Configuration error:[/red] {problem}", soft_wrap=True)
        raise typer.Exit(2) from None
