"""Statistics for staff: vouchers, bookings, no-shows and messages, as JSON or CSV.
Who sees what is the handler's rule (`bot.staff.stats`), shared with the console and the CLI."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from bot.api.auth import Staff
from bot.api.plumbing import handle
from bot.staff.stats import Statistics
from storage.stats import Stats, stats_csv

__all__ = ["router"]

router = APIRouter()


@router.get("/stats", response_model=Stats)
def stats(request: Request, staff: Staff) -> Stats:
    """Vouchers, bookings, no-shows, messages and their cost, by month and place."""
    return handle(request, staff, Statistics())


@router.get(
    "/stats.csv", response_class=PlainTextResponse, responses={200: {"content": {"text/csv": {}}}}
)
def stats_as_csv(request: Request, staff: Staff) -> PlainTextResponse:
    """The same numbers as CSV: section, month, place, channel, metric, value."""
    return PlainTextResponse(
        stats_csv(handle(request, staff, Statistics())),
        media_type="text/csv",
        headers={"Content-Disposition": "attachment; filename=stats.csv"},
    )
