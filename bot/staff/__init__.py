"""Staff handlers: every staff action and scheduler job as a command, handled once.

The front-ends — the staff API (`bot.api`), the console (`bot.console`), the CLI
(`passnum staff …`, `passnum broadcast`, `passnum privacy`) and the Telegram staff commands —
parse their input into a command (a frozen dataclass of `bot.staff.<family>`), call
`StaffService.handle(staff, command, origin=…)` and format what comes back. The handler of a
command does the authorisation (`storage.access`), the work and the audit entry, in the one
unit of work the service opens. `bot.bootstrap` maps each command type to its handler.
"""

from bot.staff.service import Command, Context, Handler, StaffService

__all__ = ["Command", "Context", "Handler", "StaffService"]
