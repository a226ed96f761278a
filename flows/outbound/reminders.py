"""The messages to queue: reminders of booked slots, voucher expiry notices, no-show offers.

Dedupe keys make planning idempotent (the outbox keeps one row per key): `j1:booking:12`,
`h2:booking:12`, `expiry30:voucher-batch:PN-0001:2027-03-31`, `expiry7:…`, `noshow:booking:12`.
Slot reminders are computed once per (slot, channel, language) — `slot_texts` — and storage
queues every booking's row from them in one statement; the follow-ups are one message each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flows.outbound.channel import choose_address
from flows.outbound.schedule import (
    Clock,
    Window,
    day_before,
    expiry_kind,
    expiry_window,
    no_show_window,
    two_hours_before,
)
from flows.outbound.texts import Render, catalog_key
from flows.types import (
    ExpiringVouchers,
    MessageToQueue,
    MissedBooking,
    Recipient,
    SlotAudience,
    SlotText,
)

__all__ = [
    "SLOT_REMINDERS",
    "SlotReminder",
    "Wording",
    "expiry_key",
    "expiry_message",
    "message_at",
    "message_to",
    "no_show_message",
    "slot_params",
    "slot_texts",
]


@dataclass(frozen=True)
class SlotReminder:
    """One kind of slot reminder: its dedupe key prefix, its catalog text, its schedule."""

    prefix: str
    key: str
    schedule: Callable[[datetime, Clock], Window | None]


SLOT_REMINDERS = {
    "j1": SlotReminder("j1:booking:", "reminder.day_before", day_before),
    "h2": SlotReminder("h2:booking:", "reminder.two_hours", two_hours_before),
}


@dataclass(frozen=True)
class Wording:
    """How messages are worded and addressed: the catalog renderer, whether people can answer
    an SMS (`PASSNUM_SMS_TWO_WAY`), whether calls are offered (`PASSNUM_VOICE_REMINDERS`), the
    metropolis' help number (for places without one, and one-way SMS)."""

    render: Render
    two_way: bool
    voice: bool
    help_phone: str

    def message(
        self,
        person: Recipient,
        key: str,
        params: Mapping[str, Any],
        dedupe_key: str,
        window: Window,
    ) -> MessageToQueue | None:
        """`message_to` with these settings, sent and useless at the window's times."""
        return message_to(
            person,
            key=key,
            params=params,
            dedupe_key=dedupe_key,
            send_at=window.send_at,
            not_after=window.not_after,
            render=self.render,
            two_way=self.two_way,
            voice=self.voice,
        )


def message_to(
    person: Recipient,
    *,
    key: str,
    params: Mapping[str, Any],
    dedupe_key: str,
    send_at: datetime | None,
    not_after: datetime | None,
    render: Render,
    two_way: bool,
    voice: bool = False,
) -> MessageToQueue | None:
    """The message to queue for one person, None without an address or a catalog text."""
    target = choose_address(person, voice=voice)
    if target is None:
        return None
    channel, address = target
    return message_at(
        channel=channel,
        address=address,
        language=person.language,
        key=catalog_key(key, channel, two_way=two_way),
        params=params,
        beneficiary_id=person.id,
        dedupe_key=dedupe_key,
        send_at=send_at,
        not_after=not_after,
        render=render,
    )


def message_at(
    *,
    channel: str,
    address: str,
    language: str,
    key: str,
    params: Mapping[str, Any],
    beneficiary_id: int | None,
    dedupe_key: str,
    send_at: datetime | None,
    not_after: datetime | None,
    render: Render,
) -> MessageToQueue | None:
    """The catalog text `key` to this very address; None when the catalogs lack it."""
    rendered = render(channel, language, key, params)
    if rendered is None:
        return None
    body, segments = rendered
    return MessageToQueue(
        channel=channel,
        address=address,
        body=body,
        segments=segments,
        beneficiary_id=beneficiary_id,
        dedupe_key=dedupe_key,
        send_after=send_at,
        not_after=not_after,
    )


def slot_params(slot: SlotAudience, *, help_phone: str) -> dict[str, Any]:
    """The catalog parameters of a slot's reminder (the metropolis' number if the place has
    none)."""
    return {
        "starts_at": slot.starts_at,
        "starts_time": slot.starts_at,
        "place": slot.place,
        "address": slot.address,
        "commune": slot.commune,
        "phone": slot.phone or help_phone,
    }


def slot_texts(
    reminder: SlotReminder,
    slots: Iterable[SlotAudience],
    *,
    clock: Clock,
    wording: Wording,
) -> list[SlotText]:
    """The text and times of `reminder` for each (slot, channel, language); slots too late
    for it, or without a catalog text, get none. Slots starting at the same moment share one
    schedule computation."""
    windows: dict[datetime, Window | None] = {}
    texts = []
    for slot in slots:
        if slot.starts_at not in windows:
            windows[slot.starts_at] = reminder.schedule(slot.starts_at, clock)
        window = windows[slot.starts_at]
        if window is None:
            continue
        key = catalog_key(reminder.key, slot.channel, two_way=wording.two_way)
        params = slot_params(slot, help_phone=wording.help_phone)
        rendered = wording.render(slot.channel, slot.language, key, params)
        if rendered is None:
            continue
        body, segments = rendered
        texts.append(
            SlotText(
                slot.slot_id,
                slot.channel,
                slot.language,
                body,
                segments,
                booked_by=window.due,
                send_at=window.send_at,
                not_after=window.not_after,
            )
        )
    return texts


def expiry_key(batch: ExpiringVouchers, today: date) -> str:
    """`expiry30:voucher-batch:PN-0001:2027-03-31` (or `expiry7:…` in the last week)."""
    kind = expiry_kind(batch.expires_on, today)
    return f"{kind}:voucher-batch:{batch.booklet}:{batch.expires_on.isoformat()}"


def expiry_message(
    batch: ExpiringVouchers, *, clock: Clock, wording: Wording
) -> MessageToQueue | None:
    """The expiry notice of one booklet's vouchers, None when too late or unreachable."""
    key = expiry_key(batch, clock.today)
    window = expiry_window(expiry_kind(batch.expires_on, clock.today), batch.expires_on, clock)
    if window is None:
        return None
    params = {
        "expires_on": batch.expires_on,
        "available": batch.available,
        "phone": wording.help_phone,
    }
    return wording.message(batch.recipient, "reminder.expiry", params, key, window)


def no_show_message(
    missed: MissedBooking, *, clock: Clock, wording: Wording
) -> MessageToQueue | None:
    """The offer to book again after a no-show, None once too late or unreachable."""
    window = no_show_window(missed.starts_at, clock)
    if window is None:
        return None
    params = {"starts_at": missed.starts_at, "phone": missed.place_phone or wording.help_phone}
    key = f"noshow:booking:{missed.booking_id}"
    return wording.message(missed.recipient, "reminder.missed", params, key, window)
