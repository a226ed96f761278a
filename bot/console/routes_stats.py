"""Statistics as charts (bookings and attendance per week and per month, vouchers used per
place, no-show rate, SMS segments and cost per month), the same numbers as tables, and the CSV
export."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from bot.console.charts import column_chart, row_chart
from bot.console.web import SECURITY_HEADERS, Visit, perform, render, visit
from bot.staff_reads import read_stats
from storage.stats import Stats, stats_csv
from storage.stats_weekly import weekly_bookings

__all__ = ["router"]

router = APIRouter()


def _stats(who: Visit) -> Stats:
    price = who.settings.sms_price_eur
    return perform(who, lambda s: read_stats(s, staff=who.staff, price_eur=price, now=who.now))


def _weeks(who: Visit) -> list[dict[str, Any]]:
    return perform(who, lambda s: weekly_bookings(s, staff=who.staff, now=who.now))


def weekly_chart(who: Visit, weeks: list[dict[str, Any]]) -> str:
    """Columns per ISO week, named by the Monday's day and month (02/03)."""
    labels = [f"{row['week'][8:10]}/{row['week'][5:7]}" for row in weeks]
    return column_chart(
        who.t("stats.chart_weeks"),
        labels,
        [
            (who.t("stats.bookings"), [row["bookings"] for row in weeks]),
            (who.t("stats.attended"), [row["attended"] for row in weeks]),
            (who.t("stats.no_shows"), [row["no_show"] for row in weeks]),
        ],
    )


def _by_month(stats: Stats) -> dict[str, dict[str, int]]:
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in stats.bookings:
        for key in ("bookings", "attended", "no_show"):
            months[row["month"]][key] += row[key]
    return {month: dict(values) for month, values in sorted(months.items())}


def _by_place(stats: Stats) -> list[tuple[str, int]]:
    places: dict[str, int] = defaultdict(int)
    for row in stats.bookings:
        places[row["place"]] += row["attended"]
    return sorted(places.items(), key=lambda item: -item[1])[:12]


def _sms_by_month(stats: Stats) -> list[dict[str, Any]]:
    return [row for row in stats.messages if row["channel"] == "sms"]


def charts(who: Visit, stats: Stats) -> dict[str, str]:
    months = _by_month(stats)
    labels = list(months)
    rate = [
        round(100 * m.get("no_show", 0) / (m.get("attended", 0) + m.get("no_show", 0)), 1)
        if m.get("attended", 0) + m.get("no_show", 0)
        else 0.0
        for m in months.values()
    ]
    places = _by_place(stats)
    sms = _sms_by_month(stats)
    return {
        "bookings": column_chart(
            who.t("stats.chart_bookings"),
            labels,
            [
                (who.t("stats.bookings"), [m.get("bookings", 0) for m in months.values()]),
                (who.t("stats.attended"), [m.get("attended", 0) for m in months.values()]),
                (who.t("stats.no_shows"), [m.get("no_show", 0) for m in months.values()]),
            ],
        ),
        "places_empty": "" if places else "yes",
        "places": row_chart(
            who.t("stats.chart_places"), [p for p, _ in places], [n for _, n in places]
        ),
        "no_show": column_chart(
            who.t("stats.chart_no_show"), labels, [(who.t("stats.no_show_rate"), rate)], "%"
        ),
        "sms": column_chart(
            who.t("stats.chart_sms"),
            [row["month"] for row in sms],
            [(who.t("stats.segments"), [row["segments"] for row in sms])],
        ),
    }


@router.get("/stats")
def statistics(who: Annotated[Visit, Depends(visit)]) -> Response:
    stats = _stats(who)
    weeks = _weeks(who)
    return render(
        who,
        who.request,
        "stats.html",
        stats=stats,
        charts={**charts(who, stats), "weeks": weekly_chart(who, weeks)},
        weeks=weeks,
        months=_by_month(stats),
        sms=_sms_by_month(stats),
    )


@router.get("/stats.csv")
def statistics_csv(who: Annotated[Visit, Depends(visit)]) -> Response:
    """The staff API's CSV (cells that a spreadsheet would run as formulas are escaped)."""
    return Response(
        stats_csv(_stats(who)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=stats.csv", **SECURITY_HEADERS},
    )
