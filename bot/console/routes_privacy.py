"""A person's privacy requests, for admins: export everything held about them as a JSON
download, and erase them behind a confirmation page that says what goes. The handlers are the
staff API's and `passnum privacy`'s (`bot.staff.privacy`): an advisor is refused (403)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from bot.console.web import SECURITY_HEADERS, Visit, checked_visit, handle, redirect, visit
from bot.staff.privacy import ErasePerson, ExportPerson, WhatErasureRemoves

__all__ = ["router"]

router = APIRouter()


@router.post("/people/{person_id}/export")
def export(person_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    """The right of access: a JSON file to hand to the person (a form post: it is audited)."""
    data = handle(who, ExportPerson(beneficiary_id=person_id))
    body = json.dumps(data, indent=2, ensure_ascii=False)
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="passnum-person-{person_id}.json"',
    }
    return Response(body, media_type="application/json; charset=utf-8", headers=headers)


@router.get("/people/{person_id}/erase")
def confirm_erase(person_id: int, who: Annotated[Visit, Depends(visit)]) -> Response:
    """What erasing removes and what stays, before the admin confirms."""
    impact = handle(who, WhatErasureRemoves(beneficiary_id=person_id))
    return who.page("person_erase.html", person_id=person_id, impact=impact)


@router.post("/people/{person_id}/erase")
def erase(person_id: int, who: Annotated[Visit, Depends(checked_visit)]) -> Response:
    handle(who, ErasePerson(beneficiary_id=person_id))
    return redirect("/people?erased=1")
