"""Statistics as staff commands: the counts (JSON, CSV), the console's overview (per week, per
month, per place, SMS per month) — and the audit log, for admins.

The rule, once: advisors see the bookings of their places only; admins see everything, with
the vouchers and the messages and their cost (at `sms_price_eur` a segment). Reading the
statistics is audited (`stats.view`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

from bot.staff.rows import detached
from bot.staff.service import Command, Context, Handler
from storage.console_queries import audit_entries
from storage.models import AuditEntry
from storage.staff import StaffRefused
from storage.stats import Stats, staff_stats
from storage.stats_weekly import weekly_bookings

__all__ = ["HANDLERS", "AuditLog", "Overview", "Statistics", "StatisticsOverview"]

BUSIEST_PLACES = 12


@dataclass(frozen=True)
class Overview:
    """What the console's statistics page draws. `weeks`: `[{"week": "2026-03-02",
    "bookings": 5, "attended": 3, "no_show": 1}, …]`; `months`: `{"2026-03": {"bookings": 9,
    "attended": 6, "no_show": 2, "no_show_rate": 25.0}}`; `places`: `[("Médiathèque", 12)]`
    (sessions attended, busiest first); `sms`: the SMS rows of `stats.messages`."""

    stats: Stats
    weeks: list[dict[str, Any]]
    months: dict[str, dict[str, float]]
    places: list[tuple[str, int]]
    sms: list[dict[str, Any]]


@dataclass(frozen=True)
class Statistics(Command[Stats]):
    """`{}` → vouchers, bookings, no-shows, messages and their cost, by month and place
    (audited `stats.view`)."""


@dataclass(frozen=True)
class StatisticsOverview(Command[Overview]):
    """`{}` → the statistics with their weekly, monthly and per-place views (audited)."""


@dataclass(frozen=True)
class AuditLog(Command[list[AuditEntry]]):
    """`{"before_id": 120, "limit": 100}` → the audit log, newest first (admins only)."""

    read_only: ClassVar[bool] = True
    before_id: int | None = None
    limit: int = 100


def _place_ids(context: Context) -> tuple[int, ...] | None:
    return None if context.staff.is_admin else context.staff.place_ids


def statistics(context: Context, command: Statistics) -> Stats:
    context.audit("stats.view", None)
    return staff_stats(
        context.session,
        place_ids=_place_ids(context),
        whole_network=context.staff.is_admin,
        price_eur=context.settings.sms_price_eur,
    )


def _by_month(stats: Stats) -> dict[str, dict[str, float]]:
    months: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(int))
    for row in stats.bookings:
        for key in ("bookings", "attended", "no_show"):
            months[row["month"]][key] += row[key]
    for values in months.values():
        seen = values["attended"] + values["no_show"]
        values["no_show_rate"] = round(100 * values["no_show"] / seen, 1) if seen else 0.0
    return {month: dict(values) for month, values in sorted(months.items())}


def _by_place(stats: Stats) -> list[tuple[str, int]]:
    places: dict[str, int] = defaultdict(int)
    for row in stats.bookings:
        places[row["place"]] += row["attended"]
    return sorted(places.items(), key=lambda item: -item[1])[:BUSIEST_PLACES]


def statistics_overview(context: Context, command: StatisticsOverview) -> Overview:
    stats = statistics(context, Statistics())
    return Overview(
        stats=stats,
        weeks=weekly_bookings(context.session, place_ids=_place_ids(context), now=context.now),
        months=_by_month(stats),
        places=_by_place(stats),
        sms=[row for row in stats.messages if row["channel"] == "sms"],
    )


def audit_log(context: Context, command: AuditLog) -> list[AuditEntry]:
    if not context.staff.is_admin:
        raise StaffRefused("forbidden", "only an admin may read the audit log")
    entries = audit_entries(context.session, before_id=command.before_id, limit=command.limit)
    return detached(context.session, entries)


HANDLERS: dict[type[Any], Handler] = {
    Statistics: statistics,
    StatisticsOverview: statistics_overview,
    AuditLog: audit_log,
}
