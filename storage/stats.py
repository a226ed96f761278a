"""Statistics for staff: vouchers, bookings and messages, by month and by place.

Months are UTC calendar months (the few hours' offset at a month's edge do not matter for
these counts). Vouchers count by the month their booklet was issued, bookings by the month and
place of the session, messages by the month they were queued; cost = SMS segments handed to
the provider × `sms_price_eur`. Which places and sections a staff member sees is the staff
handlers' rule (`bot.staff.stats`: advisors, the bookings of their places only).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from storage.csv_safety import safe_row
from storage.models import Booking, Booklet, Place, Slot, Voucher
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S

__all__ = ["Stats", "staff_stats", "stats_csv"]

VOUCHER_STATES = ("available", "reserved", "redeemed", "expired")
BOOKING_STATES = ("booked", "cancelled", "attended", "no_show")
SENT = (S.SENDING.value, S.SENT.value, S.DELIVERED.value)


@dataclass
class Stats:
    """`{"totals": {"vouchers_issued": 150, ..., "messages_cost_eur": 1.4},
    "vouchers": [{"month": "2026-11", "issued": 150, "available": 140, ...}],
    "bookings": [{"month": "2026-12", "place_id": 1, "place": "…", "booked": 3, ...}],
    "messages": [{"month": "2026-11", "channel": "sms", "sent": 20, "failed": 1, ...}]}`"""

    totals: dict[str, float] = field(default_factory=dict)
    vouchers: list[dict[str, Any]] = field(default_factory=list)
    bookings: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


def _month(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 7)  # stored as 'YYYY-MM-DD HH:MM:SS' in UTC
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def _vouchers(session: Session) -> list[dict[str, Any]]:
    month = _month(session, Booklet.issued_at)
    rows = session.execute(
        select(month, Voucher.status, func.count())
        .join(Booklet, Booklet.id == Voucher.booklet_id)
        .group_by(month, Voucher.status)
    ).all()
    table: dict[str, dict[str, Any]] = {}
    for when, status, count in rows:
        entry = table.setdefault(
            when, {"month": when, "issued": 0, **dict.fromkeys(VOUCHER_STATES, 0)}
        )
        entry["issued"] += count
        entry[status] = entry.get(status, 0) + count
    return [table[key] for key in sorted(table)]


def _bookings(session: Session, place_ids: Collection[int] | None) -> list[dict[str, Any]]:
    month = _month(session, Slot.starts_at)
    query = (
        select(month, Place.id, Place.name, Booking.status, func.count())
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Place, Place.id == Slot.place_id)
        .group_by(month, Place.id, Place.name, Booking.status)
    )
    if place_ids is not None:
        query = query.where(Place.id.in_(place_ids))
    table: dict[tuple[str, int], dict[str, Any]] = {}
    for when, place_id, name, status, count in session.execute(query).all():
        entry = table.setdefault(
            (when, place_id),
            {
                "month": when,
                "place_id": place_id,
                "place": name,
                "bookings": 0,
                **dict.fromkeys(BOOKING_STATES, 0),
            },
        )
        entry["bookings"] += count
        entry[status] = entry.get(status, 0) + count
    return [table[key] for key in sorted(table)]


def _messages(session: Session, price_eur: float) -> list[dict[str, Any]]:
    month = _month(session, Msg.created_at)
    rows = session.execute(
        select(month, Msg.channel, Msg.status, func.count(), func.sum(Msg.segments)).group_by(
            month, Msg.channel, Msg.status
        )
    ).all()
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for when, channel, status, count, segments in rows:
        entry = table.setdefault(
            (when, channel),
            {
                "month": when,
                "channel": channel,
                "sent": 0,
                "delivered": 0,
                "failed": 0,
                "segments": 0,
                "cost_eur": 0.0,
            },
        )
        if status in SENT:
            entry["sent"] += count
            entry["segments"] += int(segments or 0) if channel == "sms" else 0
        entry["delivered"] += count if status == S.DELIVERED.value else 0
        entry["failed"] += count if status == S.FAILED.value else 0
        entry["cost_eur"] = round(entry["segments"] * price_eur, 2)
    return [table[key] for key in sorted(table)]


def staff_stats(
    session: Session, *, place_ids: Collection[int] | None, whole_network: bool, price_eur: float
) -> Stats:
    """The bookings of these places (None: all), and with `whole_network` the vouchers and
    messages of everyone too."""
    stats = Stats(bookings=_bookings(session, place_ids))
    if whole_network:
        stats.vouchers = _vouchers(session)
        stats.messages = _messages(session, price_eur)

    def total(rows: list[dict[str, Any]], key: str) -> float:
        return sum(row[key] for row in rows)

    stats.totals = {
        "vouchers_issued": total(stats.vouchers, "issued"),
        "vouchers_reserved": total(stats.vouchers, "reserved"),
        "vouchers_redeemed": total(stats.vouchers, "redeemed"),
        "vouchers_expired": total(stats.vouchers, "expired"),
        "bookings": total(stats.bookings, "bookings"),
        "attended": total(stats.bookings, "attended"),
        "no_shows": total(stats.bookings, "no_show"),
        "messages_sent": total(stats.messages, "sent"),
        "sms_segments": total(stats.messages, "segments"),
        "messages_cost_eur": round(total(stats.messages, "cost_eur"), 2),
    }
    return stats


def stats_csv(stats: Stats) -> str:
    """One line per number: section, month, place, channel, metric, value. Every row goes
    through `safe_row`: names typed by people (places) never become spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "month", "place", "channel", "metric", "value"])
    for name, value in stats.totals.items():
        writer.writerow(safe_row(["totals", "", "", "", name, value]))
    for section in ("vouchers", "bookings", "messages"):
        for row in getattr(stats, section):
            labels = {"month", "place_id", "place", "channel"}
            for metric, value in row.items():
                if metric not in labels:
                    writer.writerow(
                        safe_row(
                            [
                                section,
                                row["month"],
                                row.get("place", ""),
                                row.get("channel", ""),
                                metric,
                                value,
                            ]
                        )
                    )
    return buffer.getvalue()
