"""The staff console: server-rendered pages at `/` for advisors and coordinators.

Every page is plain HTML forms (no script needed); every action is a staff command
(`bot.staff`) handled by the same service as the staff API's (`web.handle`), so both enforce
the same rules. `mount_console(app)` is all `bot.server` calls.

- `web`: session, CSRF, language, rendering; `routes_*`: one module per page group;
- `charts`: the statistics' SVG; `templates/`, `static/`: Jinja2 pages and the stylesheet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bot.console.web import ConsoleRefused, NotSignedIn, render

__all__ = ["mount_console"]


def mount_console(app: FastAPI) -> None:
    """Add the console's pages, stylesheet and error pages to the app."""
    from bot.console import (
        routes_audit,
        routes_broadcasts,
        routes_help,
        routes_people,
        routes_places,
        routes_privacy,
        routes_signin,
        routes_slots,
        routes_stats,
        routes_today,
        routes_try,
    )

    for module in (
        routes_signin,
        routes_today,
        routes_people,
        routes_privacy,
        routes_help,
        routes_broadcasts,
        routes_slots,
        routes_stats,
        routes_places,
        routes_try,
        routes_audit,
    ):
        app.include_router(module.router, include_in_schema=False)
    static = StaticFiles(directory=str(Path(__file__).parent / "static"))
    app.mount("/console-static", static, name="console-static")
    app.add_exception_handler(NotSignedIn, _not_signed_in)  # type: ignore[arg-type]
    app.add_exception_handler(ConsoleRefused, _refused)  # type: ignore[arg-type]


async def _not_signed_in(request: Request, problem: NotSignedIn) -> Response:
    if problem.post:
        return PlainTextResponse("403: sign in first", status_code=403)
    return RedirectResponse("/signin", status_code=303)


async def _refused(request: Request, problem: ConsoleRefused) -> Response:
    from bot.console.web import visit

    try:
        who = visit(request)
    except NotSignedIn:
        who = None
    return render(who, request, "error.html", problem.status, message=problem.message)
