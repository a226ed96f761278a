"""People: search by name, phone or booklet; a person's file (balance, bookings, messages);
register someone; change their phone; their Telegram link as a QR code to scan at the desk."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlmodel import Session

from bot.console.web import ConsoleRefused, Visit, checked_visit, perform, redirect, render, visit
from bot.staff_api.plumbing import bot_username
from storage.beneficiaries_admin import (
    beneficiary_file,
    change_phone,
    issue_link,
    register_beneficiary,
)
from storage.console_queries import find_people
from storage.directory import DatabaseDirectory
from storage.geo import default_resolver

__all__ = ["qr_svg", "router"]

router = APIRouter()


def qr_svg(link: str) -> str:
    """The link as an inline SVG QR code (dark on white, big enough to scan from a screen)."""
    return str(
        segno.make(link, error="m").svg_inline(scale=6, dark="#111", light="#fff", omitsize=True)
    )


@router.get("/people")
def people(who: Annotated[Visit, Depends(visit)], q: str = "", erased: bool = False) -> Response:
    hits = perform(who, lambda s: find_people(s, staff=who.staff, text=q)) if q.strip() else None
    return render(who, who.request, "people.html", q=q, hits=hits, erased=erased)


@router.get("/people/new")
def new_person(who: Annotated[Visit, Depends(visit)]) -> Response:
    return render(who, who.request, "person_new.html")


@router.post("/people")
def register(
    who: Annotated[Visit, Depends(checked_visit)],
    first_name: Annotated[str, Form()],
    phone: Annotated[str, Form()],
    booklet_number: Annotated[str, Form()],
    vouchers: Annotated[int, Form(ge=1, le=20)],
    expires_on: Annotated[date, Form()],
    verification_code: Annotated[str, Form()],
    language: Annotated[str, Form()] = "fr",
    commune: Annotated[str, Form()] = "",
) -> Response:
    """Register someone with a new booklet (the staff API's registration, same checks)."""
    if language not in ("fr", "en"):
        raise ConsoleRefused(422, "language: fr or en")
    person = perform(
        who,
        lambda s: (
            register_beneficiary(
                s,
                staff=who.staff,
                first_name=first_name.strip(),
                phone=phone,
                booklet_number=booklet_number.strip(),
                vouchers=vouchers,
                expires_on=expires_on,
                verification_code=verification_code.strip(),
                language=language,
                commune=commune.strip() or None,
                now=who.now,
            ).id
        ),
    )
    return redirect(f"/people/{person}")


@router.get("/people/{person_id}")
def person_file(person_id: int, who: Annotated[Visit, Depends(visit)]) -> Response:
    def work(session: Session):  # type: ignore[no-untyped-def]
        found = beneficiary_file(session, staff=who.staff, beneficiary_id=person_id, now=who.now)
        directory = DatabaseDirectory(session, resolver=default_resolver(), now=who.now)
        return found, directory.balance(person_id)

    found, balance = perform(who, work)
    return render(
        who,
        who.request,
        "person.html",
        file=found,
        balance=balance,
        tz=who.settings.tz,
        link=None,
    )


@router.post("/people/{person_id}/phone")
def new_phone(
    person_id: int, who: Annotated[Visit, Depends(checked_visit)], phone: Annotated[str, Form()]
) -> Response:
    perform(
        who,
        lambda s: change_phone(
            s, staff=who.staff, beneficiary_id=person_id, phone=phone, now=who.now
        ),
    )
    return redirect(f"/people/{person_id}")


@router.post("/people/{person_id}/telegram-link")
def telegram_link(person_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    """A fresh deep link, shown once with its QR code (a new link replaces the previous one)."""
    bot = bot_username(who.request)

    def work(session: Session):  # type: ignore[no-untyped-def]
        link = issue_link(
            session, staff=who.staff, beneficiary_id=person_id, now=who.now, bot_username=bot
        )
        found = beneficiary_file(session, staff=who.staff, beneficiary_id=person_id, now=who.now)
        directory = DatabaseDirectory(session, resolver=default_resolver(), now=who.now)
        return link, found, directory.balance(person_id)

    link, found, balance = perform(who, work)
    return render(
        who,
        who.request,
        "person.html",
        file=found,
        balance=balance,
        tz=who.settings.tz,
        link=link,
        qr=qr_svg(link),
    )
