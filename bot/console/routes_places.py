"""Places: upload the national open-data CSV of digital-inclusion places (the import of
`passnum import places`, admins only: `bot.staff.places`), with its per-row error report; the
list of places."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, UploadFile
from fastapi.responses import Response

from bot.body_limit import MAX_BODY_BYTES
from bot.console.web import ConsoleRefused, Visit, checked_visit, handle, render, visit
from bot.staff.places import ImportPlaces, ListPlaces

__all__ = ["router"]

router = APIRouter()
MAX_UPLOAD = MAX_BODY_BYTES  # the app's request limit: a metropolis' extract, not the national file


@router.get("/places")
def places(who: Annotated[Visit, Depends(visit)]) -> Response:
    return render(who, who.request, "places.html", places=handle(who, ListPlaces()), report=None)


@router.post("/places/import")
async def upload(who: Annotated[Visit, Depends(checked_visit)], file: UploadFile) -> Response:
    raw = await file.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        raise ConsoleRefused(413, who.t("places.too_big"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConsoleRefused(422, who.t("places.not_utf8")) from None
    report = handle(who, ImportPlaces(lines=tuple(text.splitlines())))
    return render(who, who.request, "places.html", places=handle(who, ListPlaces()), report=report)
