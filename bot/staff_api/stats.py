"""Statistics for staff: vouchers, bookings, no-shows and messages, as JSON or CSV."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from bot.staff_api.auth import Staff
from bot.staff_api.plumbing import act, now, settings_of
from bot.staff_reads import read_stats
from storage.staff import StaffIdentity
from storage.stats import Stats, stats_csv

__all__ = ["StatsOut", "router"]

router = APIRouter()


class StatsOut(BaseModel):
    totals: dict[str, float]
    vouchers: list[dict[str, Any]]
    bookings: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def _stats(request: Request, staff: StaffIdentity) -> Stats:
    price = settings_of(request).sms_price_eur

    return act(request, staff, lambda s: read_stats(s, staff=staff, price_eur=price, now=now()))


@router.get("/stats", response_model=StatsOut)
def stats(request: Request, staff: Staff) -> StatsOut:
    """Vouchers, bookings, no-shows, messages and their cost, by month and place."""
    return StatsOut(**asdict(_stats(request, staff)))


@router.get(
    "/stats.csv", response_class=PlainTextResponse, responses={200: {"content": {"text/csv": {}}}}
)
def stats_as_csv(request: Request, staff: Staff) -> PlainTextResponse:
    """The same numbers as CSV: section, month, place, channel, metric, value."""
    return PlainTextResponse(
        stats_csv(_stats(request, staff)),
        media_type="text/csv",
        headers={"Content-Disposition": "attachment; filename=stats.csv"},
    )
