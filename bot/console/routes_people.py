"""People: search by name, phone or booklet; a person's file (balance, bookings, messages);
register someone; change their phone; their Telegram link as a QR code to scan at the desk.
The rules and the audit are the staff API's handlers (`bot.staff.people`)."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from pydantic import BaseModel, Field

from bot.api.plumbing import bot_username
from bot.console.dates import typed_day
from bot.console.web import (
    ConsoleRefused,
    Visit,
    checked_visit,
    handle,
    redirect,
    render,
    texts,
    visit,
)
from bot.staff.people import (
    ChangePhone,
    IssueTelegramLink,
    PersonFile,
    PersonRecord,
    RegisterBeneficiary,
    SearchPeople,
)

__all__ = ["qr_svg", "router"]

router = APIRouter()


def qr_svg(link: str) -> str:
    """The link as an inline SVG QR code (dark on white, big enough to scan from a screen)."""
    return str(
        segno.make(link, error="m").svg_inline(scale=6, dark="#111", light="#fff", omitsize=True)
    )


@router.get("/people")
def people(who: Annotated[Visit, Depends(visit)], q: str = "", erased: bool = False) -> Response:
    hits = handle(who, SearchPeople(text=q)) if q.strip() else None
    return render(who, who.request, "people.html", q=q, hits=hits, erased=erased)


@router.get("/people/new")
def new_person(who: Annotated[Visit, Depends(visit)]) -> Response:
    return render(who, who.request, "person_new.html")


class RegistrationForm(BaseModel):
    """The registration form's fields, as typed (the handler validates them)."""

    first_name: str
    phone: str
    booklet_number: str
    vouchers: int = Field(ge=1, le=20)
    expires_on: str
    verification_code: str
    language: str = "fr"
    commune: str = ""


@router.post("/people")
def register(
    who: Annotated[Visit, Depends(checked_visit)], form: Annotated[RegistrationForm, Form()]
) -> Response:
    """Register someone with a new booklet (the staff API's registration, same checks). The
    day is typed as the console shows days (dd/mm/yyyy), whatever the browser's language."""
    day = typed_day(form.expires_on)
    if day is None:
        label = texts(who.lang, "people.expires")
        message = texts(who.lang, "date.invalid", field=label, value=form.expires_on)
        raise ConsoleRefused(422, message)
    person = handle(who, RegisterBeneficiary(**{**form.model_dump(), "expires_on": day}))
    return redirect(f"/people/{person.id}")


def _person_page(who: Visit, found: PersonRecord, link: str | None = None) -> Response:
    return render(
        who,
        who.request,
        "person.html",
        file=found,
        balance=found.balance,
        tz=who.settings.tz,
        link=link,
        qr=qr_svg(link) if link else None,
    )


@router.get("/people/{person_id}")
def person_file(person_id: int, who: Annotated[Visit, Depends(visit)]) -> Response:
    return _person_page(who, handle(who, PersonFile(beneficiary_id=person_id)))


@router.post("/people/{person_id}/phone")
def new_phone(
    person_id: int, who: Annotated[Visit, Depends(checked_visit)], phone: Annotated[str, Form()]
) -> Response:
    handle(who, ChangePhone(beneficiary_id=person_id, phone=phone))
    return redirect(f"/people/{person_id}")


@router.post("/people/{person_id}/telegram-link")
def telegram_link(person_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    """A fresh deep link, shown once with its QR code (a new link replaces the previous one)."""
    command = IssueTelegramLink(beneficiary_id=person_id, bot_username=bot_username(who.request))
    link = handle(who, command)
    return _person_page(who, handle(who, PersonFile(beneficiary_id=person_id)), link)
