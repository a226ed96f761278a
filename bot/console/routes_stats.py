"""Statistics as charts (bookings and attendance per week and per month, vouchers used per
place, no-show rate, SMS segments and cost per month), the same numbers as tables, and the CSV
export. The numbers are the handlers' (`bot.staff.stats`); this module draws them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from bot.console.charts import column_chart, row_chart
from bot.console.web import SECURITY_HEADERS, Visit, handle, render, visit
from bot.staff.stats import Overview, Statistics, StatisticsOverview
from storage.stats import stats_csv

__all__ = ["router"]

router = APIRouter()


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


def charts(who: Visit, overview: Overview) -> dict[str, str]:
    months, places, sms = overview.months, overview.places, overview.sms
    labels = list(months)
    rate = [m["no_show_rate"] for m in months.values()]
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
        "weeks": weekly_chart(who, overview.weeks),
    }


@router.get("/stats")
def statistics(who: Annotated[Visit, Depends(visit)]) -> Response:
    overview = handle(who, StatisticsOverview())
    return render(
        who,
        who.request,
        "stats.html",
        stats=overview.stats,
        charts=charts(who, overview),
        weeks=overview.weeks,
        months=overview.months,
        sms=overview.sms,
    )


@router.get("/stats.csv")
def statistics_csv(who: Annotated[Visit, Depends(visit)]) -> Response:
    """The staff API's CSV (cells that a spreadsheet would run as formulas are escaped)."""
    return Response(
        stats_csv(handle(who, Statistics())),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=stats.csv", **SECURITY_HEADERS},
    )
