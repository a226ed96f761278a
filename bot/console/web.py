"""What every console page shares: who is signed in, the CSRF check of every form, the
language, rendering a template, and running a staff action with the staff API's rules.

A staff action runs through `bot.api.plumbing.act`, the API's own unit of work: its
refusals are audited the same way and come back here as an error page with the same status.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from bot.api.plumbing import act
from bot.api.plumbing import handle as api_handle
from bot.console.dates import DAY_PATTERN, day_text
from bot.staff import Command
from config import Settings
from config.catalogs import load_console_texts
from storage.console_sessions import OpenedSession, find_session
from storage.db import unit_of_work
from storage.staff import StaffIdentity

__all__ = [
    "COOKIE",
    "LANG_COOKIE",
    "ConsoleRefused",
    "NotSignedIn",
    "SECURITY_HEADERS",
    "Visit",
    "checked_visit",
    "handle",
    "language_of",
    "local_path",
    "perform",
    "redirect",
    "render",
    "secure_cookies",
    "texts",
    "visit",
]

COOKIE = "passnum_console"
LANG_COOKIE = "passnum_lang"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
T = TypeVar("T")
_TEXTS = load_console_texts()
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["euros"] = lambda amount, lang="fr": (
    f"{amount:.2f} €".replace(".", ",") if lang == "fr" else f"€{amount:.2f}"
)
templates.env.filters["local"] = lambda moment, tz, fmt="%d/%m/%Y %H:%M": (
    moment.astimezone(tz).strftime(fmt) if moment else ""
)
templates.env.filters["day"] = day_text
templates.env.globals["day_pattern"] = DAY_PATTERN


class NotSignedIn(Exception):
    """No live session: a page sends the browser to sign-in, a form post is refused (403)."""

    def __init__(self, post: bool) -> None:
        super().__init__("not signed in")
        self.post = post


class ConsoleRefused(Exception):
    """A refused action or a bad form: shown as an error page with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Visit:
    """One request of a signed-in staff member."""

    request: Request
    staff: StaffIdentity
    csrf: str
    lang: str

    @property
    def settings(self) -> Settings:
        return self.request.app.state.services.settings  # type: ignore[no-any-return]

    @property
    def now(self) -> datetime:
        return datetime.now(UTC)

    def t(self, key: str, **params: Any) -> str:
        return texts(self.lang, key, **params)


def texts(lang: str, key: str, **params: Any) -> str:
    """One console label in `lang` (French when missing), with its {placeholders} filled."""
    text = _TEXTS.get(lang, {}).get(key) or _TEXTS["fr"].get(key) or key
    return text.format(**params) if params else text


def language_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "fr")
    return chosen if chosen in _TEXTS else "fr"


def secure_cookies(request: Request) -> bool:
    """Secure cookies when the public URL is HTTPS (browsers drop them on plain HTTP)."""
    return str(request.app.state.services.settings.public_url).startswith("https://")


def _session(request: Request) -> OpenedSession | None:
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    services = request.app.state.services
    with unit_of_work(services.engine) as session:
        return find_session(
            session,
            secret=secret,
            now=datetime.now(UTC),
            bootstrap_token=services.settings.staff_token,
        )


def visit(request: Request) -> Visit:
    """Dependency of every page: the signed-in staff member, else off to sign-in."""
    opened = _session(request)
    if opened is None:
        raise NotSignedIn(post=request.method != "GET")
    return Visit(request, opened.staff, opened.csrf, language_of(request))


async def checked_visit(request: Request) -> Visit:
    """Dependency of every form post: a live session cookie and its CSRF token, else 403."""
    opened = _session(request)
    if opened is None:
        raise NotSignedIn(post=True)
    form = await request.form()
    sent = str(form.get("csrf") or "")
    if not sent or not hmac.compare_digest(sent.encode(), opened.csrf.encode()):
        raise ConsoleRefused(403, texts(language_of(request), "error.csrf"))
    return Visit(request, opened.staff, opened.csrf, language_of(request))


def handle(visit: Visit, command: Command[T]) -> T:
    """Run one staff command with the staff API's rules and audited refusals (same handler)."""
    try:
        return api_handle(visit.request, visit.staff, command)
    except HTTPException as refused:
        raise ConsoleRefused(refused.status_code, str(refused.detail)) from None


def perform(visit: Visit, work: Callable[[Session], T]) -> T:
    """Run a staff action in the staff API's unit of work, with its audited refusals."""
    try:
        return act(visit.request, visit.staff, work)
    except HTTPException as refused:
        raise ConsoleRefused(refused.status_code, str(refused.detail)) from None


def render(
    visit: Visit | None,
    request: Request,
    name: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = visit.lang if visit else language_of(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "visit": visit,
            "lang": lang,
            "t": lambda key, **params: texts(lang, key, **params),
            "path": request.url.path,
            "tz": request.app.state.services.settings.tz,
            **context,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(path: str) -> Response:
    """After a successful post: see the result with a GET (303)."""
    return RedirectResponse(local_path(path), status_code=303)


def local_path(path: str) -> str:
    """Only paths of this site: never an open redirect."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"
