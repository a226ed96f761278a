"""Broadcast segments: parsing them, who may use which, and the recipients they select.

Segments (SPEC section 5): `all`, `unused`, `slot:ID`, `place:ID` (booked on an upcoming slot
there), `commune:NAME-OR-INSEE`, `topic:KEY` (booked or attended a session of the topic).
Opted-out and erased people are never in a segment, nor is anyone whose chosen address said
STOP (`AddressOptOut`, kept even for numbers unknown when they said it). Who may use which
segment is the staff handlers' rule (`bot.staff.broadcasts`: advisors only `slot:`/`place:` of
their own places). Recipients are one query (100,000 in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, true
from sqlmodel import Session

from storage.geo import default_resolver
from storage.models import (
    AddressOptOut,
    Beneficiary,
    Booking,
    BookingStatus,
    Booklet,
    Slot,
    Topic,
    Voucher,
    VoucherStatus,
)
from storage.reminder_texts import chosen_address_sql, chosen_channel_sql
from storage.staff import StaffRefused

__all__ = ["Segment", "parse_segment", "recipients", "segment_place"]

KINDS = ("all", "unused", "slot", "place", "commune", "topic")


@dataclass(frozen=True)
class Segment:
    """A parsed segment. `{"kind": "slot", "value": "12"}`"""

    kind: str
    value: str | None = None

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value}"


def parse_segment(text: str) -> Segment:
    """`"slot:12"` → Segment("slot", "12"); StaffRefused("invalid") with the accepted forms."""
    kind, _, value = text.strip().partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if kind not in KINDS or (kind in ("all", "unused")) == bool(value):
        raise StaffRefused(
            "invalid",
            f"segment {text!r}: use all, unused, slot:ID, place:ID, "
            "commune:NAME-OR-INSEE or topic:KEY",
        )
    if kind in ("slot", "place") and not value.isdigit():
        raise StaffRefused("invalid", f"segment {text!r}: {kind} needs a number")
    return Segment(kind, value or None)


def segment_place(session: Session, segment: Segment) -> int | None:
    """The place a slot:/place: segment is about (None for the others)."""
    if segment.kind == "place":
        return int(segment.value or 0)
    if segment.kind == "slot":
        slot = session.get(Slot, int(segment.value or 0))
        if slot is None:
            raise StaffRefused("not_found", f"no slot {segment.value}")
        return slot.place_id
    return None


def _member_condition(session: Session, segment: Segment, now: datetime) -> Any:
    value = segment.value or ""
    booked_on = exists().where(Booking.beneficiary_id == Beneficiary.id, Booking.slot_id == Slot.id)
    if segment.kind == "unused":
        return exists().where(
            Booklet.beneficiary_id == Beneficiary.id,
            Voucher.booklet_id == Booklet.id,
            Voucher.status == VoucherStatus.AVAILABLE.value,
            Voucher.expires_on >= now.date(),
        )
    if segment.kind == "slot":
        return booked_on.where(Slot.id == int(value), Booking.status == BookingStatus.BOOKED.value)
    if segment.kind == "place":
        return booked_on.where(
            Slot.place_id == int(value),
            Slot.starts_at > now,
            Slot.cancelled.is_(False),
            Booking.status == BookingStatus.BOOKED.value,
        )
    if segment.kind == "commune":
        return Beneficiary.commune_insee == _insee(value)
    if segment.kind == "topic":
        if session.get(Topic, value) is None:
            raise StaffRefused("invalid", f"segment topic:{value}: unknown topic")
        return booked_on.where(
            Slot.topic == value,
            Booking.status.in_([BookingStatus.BOOKED.value, BookingStatus.ATTENDED.value]),
        )
    return true()


def _insee(text: str) -> str:
    found = default_resolver().communes_for(text)
    if len(found) != 1:
        names = ", ".join(c.name for c in found)
        raise StaffRefused(
            "invalid",
            f"commune {text!r}: "
            + (f"could be {names}" if found else "not a commune of the metropolis"),
        )
    return found[0].insee


def recipients(
    session: Session, *, segment: Segment, language: str | None, now: datetime
) -> list[tuple[int, str, str]]:
    """(beneficiary id, channel, address) of everyone in the segment who can be written to."""
    channel = chosen_channel_sql()  # storage.reminder_texts.choose_address, in SQL
    address = chosen_address_sql(channel)
    query = select(Beneficiary.id, channel, address).where(
        _member_condition(session, segment, now),
        Beneficiary.opted_out.is_(False),
        Beneficiary.erased_at.is_(None),
        channel.is_not(None),
        ~exists().where(AddressOptOut.address == address),  # that number or chat said STOP
    )
    if language:
        query = query.where(Beneficiary.language == language)
    return [(row[0], row[1], row[2]) for row in session.execute(query)]
