"""Places: upload the national open-data CSV of digital-inclusion places (the import of
`passnum import places`), with its per-row error report; the list of places."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session

from bot.body_limit import MAX_BODY_BYTES
from bot.console.web import ConsoleRefused, Visit, checked_visit, perform, render, visit
from bot.staff_reads import import_places_as
from storage.models import Place

__all__ = ["router"]

router = APIRouter()
MAX_UPLOAD = MAX_BODY_BYTES  # the app's request limit: a metropolis' extract, not the national file


def _places(who: Visit) -> list[Place]:
    def work(session: Session) -> list[Place]:
        query = select(Place).order_by(Place.commune, Place.name)
        if not who.staff.is_admin:
            query = query.where(Place.id.in_(who.staff.place_ids))  # type: ignore[union-attr]
        return list(session.scalars(query))

    return perform(who, work)


@router.get("/places")
def places(who: Annotated[Visit, Depends(visit)]) -> Response:
    return render(who, who.request, "places.html", places=_places(who), report=None)


@router.post("/places/import")
async def upload(who: Annotated[Visit, Depends(checked_visit)], file: UploadFile) -> Response:
    raw = await file.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        raise ConsoleRefused(413, who.t("places.too_big"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConsoleRefused(422, who.t("places.not_utf8")) from None
    report = perform(
        who, lambda s: import_places_as(s, staff=who.staff, lines=text.splitlines(), now=who.now)
    )
    return render(who, who.request, "places.html", places=_places(who), report=report)
