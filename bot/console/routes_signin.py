"""Sign-in with a staff token (the staff API's own check) or a one-time link sent to the
member's Telegram chat (`storage.console_links`), sign-out, and the language switch.

The sign-in form is protected from cross-site posts by a double-submit token: a random
cookie set with the form, which the post must repeat (SameSite=Strict keeps it first-party).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials

from bot.api.auth import current_staff
from bot.console.web import (
    COOKIE,
    LANG_COOKIE,
    ConsoleRefused,
    NotSignedIn,
    Visit,
    checked_visit,
    language_of,
    local_path,
    redirect,
    render,
    secure_cookies,
    texts,
    visit,
)
from bot.outbox.quiet_hours import is_quiet
from config.catalogs import load_staff_texts
from storage.console_links import send_signin_link, use_signin_link
from storage.console_sessions import (
    SESSION_LIFETIME,
    close_session,
    open_session,
    open_session_on,
)
from storage.db import unit_of_work

__all__ = ["router"]

router = APIRouter()
SIGNIN_COOKIE = "passnum_signin"
_STAFF_TEXTS = load_staff_texts()


@router.get("/")
def home(request: Request) -> Response:
    """The landing page: today's sessions when signed in, the sign-in form otherwise."""
    from bot.console.routes_today import today_page

    try:
        who = visit(request)
    except NotSignedIn:
        return signin_form(request)
    return today_page(who)


@router.get("/signin")
def signin_page(request: Request) -> Response:
    return signin_form(request)


def signin_form(
    request: Request,
    error: str | None = None,
    status: int = 200,
    notice: str | None = None,
    page: str = "signin.html",
    **context: str,
) -> Response:
    """The sign-in page (or the link's landing page) with a fresh double-submit nonce."""
    nonce = secrets.token_urlsafe(24)
    response = render(
        None, request, page, status, nonce=nonce, error=error, notice=notice, **context
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        nonce,
        max_age=1800,
        httponly=True,
        secure=secure_cookies(request),
        samesite="strict",
    )
    return response


@router.post("/signin")
def signin(
    request: Request, token: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    """Check the token exactly as the staff API does, then open a console session."""
    _check_nonce(request, csrf)
    try:
        staff = current_staff(
            request, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip())
        )
    except HTTPException:
        return signin_form(request, texts(language_of(request), "signin.wrong"), 401)
    with unit_of_work(request.app.state.services.engine) as session:
        secret, _ = open_session(session, staff=staff, token=token.strip(), now=datetime.now(UTC))
        session.commit()
    return _signed_in(request, secret)


def _check_nonce(request: Request, csrf: str) -> None:
    """The sign-in forms' double-submit check: the form repeats its cookie's random value."""
    nonce = request.cookies.get(SIGNIN_COOKIE, "")
    if not nonce or not csrf or not hmac.compare_digest(nonce.encode(), csrf.encode()):
        raise ConsoleRefused(403, texts(language_of(request), "error.csrf"))


def _signed_in(request: Request, secret: str) -> Response:
    response = redirect("/")
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=secure_cookies(request),
        samesite="strict",
    )
    response.delete_cookie(SIGNIN_COOKIE)
    return response


@router.post("/signin/telegram")
def ask_for_link(
    request: Request, name: Annotated[str, Form(max_length=200)], csrf: Annotated[str, Form()] = ""
) -> Response:
    """Queue a one-time link to the named member's Telegram chat; the same answer whether or
    not one went, so the page does not tell who has a linked chat."""
    _check_nonce(request, csrf)
    services, lang = request.app.state.services, language_of(request)
    if is_quiet(datetime.now(UTC), services.settings):  # the outbox sends nothing until later
        return signin_form(request, notice=texts(lang, "signin.link_quiet"))
    wording = _STAFF_TEXTS.get(lang, _STAFF_TEXTS["fr"])["staff.console_link"]
    with unit_of_work(services.engine) as session:
        send_signin_link(
            session,
            name=name,
            message=lambda link: wording.format(link=link),
            link_base=str(services.settings.public_url),
            now=datetime.now(UTC),
            token_ttl=timedelta(days=services.settings.staff_token_ttl_days),
        )
        session.commit()
    return signin_form(request, notice=texts(lang, "signin.link_sent"))


@router.get("/signin/link/{secret}")
def link_page(secret: str, request: Request) -> Response:
    """The link's landing page: a button that signs in. A GET spends nothing, so a chat app
    fetching the link for its preview does not use it up."""
    return signin_form(request, page="signin_link.html", secret=secret[:100])


@router.post("/signin/link")
def sign_in_by_link(
    request: Request,
    secret: Annotated[str, Form(max_length=100)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    _check_nonce(request, csrf)
    with unit_of_work(request.app.state.services.engine) as session:
        now = datetime.now(UTC)
        found = use_signin_link(session, secret=secret, now=now)
        opened = (
            open_session_on(session, staff=found[0], token_hash=found[1], now=now)
            if found
            else None
        )
        session.commit()
    if opened is None:
        return signin_form(request, texts(language_of(request), "signin.link_dead"), 401)
    return _signed_in(request, opened[0])


@router.post("/signout")
def signout(request: Request, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    with unit_of_work(request.app.state.services.engine) as session:
        close_session(session, secret=request.cookies.get(COOKIE, ""))
        session.commit()
    response = redirect("/signin")
    response.delete_cookie(COOKIE)
    return response


@router.get("/lang/{code}")
def choose_language(code: str, request: Request, back: str = "/") -> Response:
    """Switch the console's language (a preference cookie; nothing else changes)."""
    response = redirect(local_path(back))
    if code in ("fr", "en"):
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="strict")
    return response
