"""`python -m bot.cli`: the same as `passnum`."""

from bot.cli.main import main

main()
