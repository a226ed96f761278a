"""Sign-in with a staff token (the staff API's own check), sign-out, and the language switch.

The sign-in form is protected from cross-site posts by a double-submit token: a random
cookie set with the form, which the post must repeat (SameSite=Strict keeps it first-party).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials

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
from bot.staff_api.auth import current_staff
from storage.console_sessions import SESSION_LIFETIME, close_session, open_session
from storage.db import unit_of_work

__all__ = ["router"]

router = APIRouter()
SIGNIN_COOKIE = "passnum_signin"


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
def signin_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = render(None, request, "signin.html", status, nonce=nonce, error=error)
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
    nonce = request.cookies.get(SIGNIN_COOKIE, "")
    if not nonce or not csrf or not hmac.compare_digest(nonce.encode(), csrf.encode()):
        raise ConsoleRefused(403, texts(language_of(request), "error.csrf"))
    try:
        staff = current_staff(
            request, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip())
        )
    except HTTPException:
        return signin_form(request, texts(language_of(request), "signin.wrong"), 401)
    with unit_of_work(request.app.state.services.engine) as session:
        secret, _ = open_session(session, staff=staff, token=token.strip(), now=datetime.now(UTC))
        session.commit()
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
