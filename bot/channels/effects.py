"""One mapping from effect type to handler, wired in one place. Handlers run inside the
caller's transaction; a refusal from the store is raised as EffectRefused."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from config import Settings
from flows.types import (
    CancelBooking,
    Effect,
    LeaveHelpMessage,
    LinkAddress,
    OptIn,
    OptOut,
    ReserveSeat,
    SetLanguage,
    SetReminderChannel,
    SetReminders,
)
from storage.booking import BookingRefused, cancel_booking, reserve_seat
from storage.booklet_guard import tell_previous_address
from storage.identity import (
    leave_help_request,
    link_address,
    linked_address,
    set_beneficiary_flags,
    spend_link_token,
)
from storage.opt_outs import set_opt_out

__all__ = ["EffectContext", "EffectRefused", "execute_effects", "HANDLERS"]


@dataclass
class EffectContext:
    session: Session
    channel: str
    address: str
    beneficiary_id: int | None
    now: datetime
    settings: Settings


class EffectRefused(Exception):
    """The store refused `effect` for `reason` (see storage.booking.BookingRefused)."""

    def __init__(self, effect: Effect, reason: str) -> None:
        super().__init__(f"{type(effect).__name__}: {reason}")
        self.effect = effect
        self.reason = reason


def _holder(ctx: EffectContext) -> int:
    if ctx.beneficiary_id is None:
        raise BookingRefused("not_found")
    return ctx.beneficiary_id


def _link(ctx: EffectContext, effect: LinkAddress) -> None:
    """Link the address (by a deep link only while its token is unused and unexpired); the
    address the booklet leaves on this channel (if any) is told it moved."""
    if effect.link_token is not None and not spend_link_token(
        ctx.session, beneficiary_id=effect.beneficiary_id, token=effect.link_token, now=ctx.now
    ):
        raise EffectRefused(effect, "link_used")
    previous = linked_address(
        ctx.session, beneficiary_id=effect.beneficiary_id, channel=ctx.channel
    )
    link_address(
        ctx.session,
        beneficiary_id=effect.beneficiary_id,
        channel=ctx.channel,
        address=ctx.address,
        now=ctx.now,
    )
    ctx.beneficiary_id = effect.beneficiary_id
    if previous is not None and previous != ctx.address:
        tell_previous_address(
            ctx.session,
            beneficiary_id=effect.beneficiary_id,
            channel=ctx.channel,
            address=previous,
            now=ctx.now,
        )


def _reserve(ctx: EffectContext, effect: ReserveSeat) -> None:
    reserve_seat(ctx.session, beneficiary_id=_holder(ctx), slot_id=effect.slot_id, now=ctx.now)


def _cancel(ctx: EffectContext, effect: CancelBooking) -> None:
    cancel_booking(
        ctx.session,
        booking_id=effect.booking_id,
        now=ctx.now,
        beneficiary_id=_holder(ctx),
        cutoff=timedelta(hours=ctx.settings.cancel_cutoff_hours),
    )


def _flag(**flags: object) -> Callable[[EffectContext, Any], None]:
    def handler(ctx: EffectContext, _effect: Any) -> None:
        if ctx.beneficiary_id is not None:
            set_beneficiary_flags(ctx.session, beneficiary_id=ctx.beneficiary_id, **flags)

    return handler


def _reminders(ctx: EffectContext, effect: SetReminders) -> None:
    _flag(reminders_enabled=effect.enabled)(ctx, effect)


def _reminder_channel(ctx: EffectContext, effect: SetReminderChannel) -> None:
    _flag(preferred_channel=effect.channel)(ctx, effect)


def _language(ctx: EffectContext, effect: SetLanguage) -> None:
    _flag(language=effect.language)(ctx, effect)


def _opt(opted_out: bool) -> Callable[[EffectContext, Any], None]:
    """STOP / START: kept for the address (even an unknown one) and on its beneficiary."""

    def handler(ctx: EffectContext, _effect: Any) -> None:
        set_opt_out(
            ctx.session,
            channel=ctx.channel,
            address=ctx.address,
            beneficiary_id=ctx.beneficiary_id,
            opted_out=opted_out,
            now=ctx.now,
        )

    return handler


def _help(ctx: EffectContext, effect: LeaveHelpMessage) -> None:
    leave_help_request(
        ctx.session,
        beneficiary_id=ctx.beneficiary_id,
        channel=ctx.channel,
        address=ctx.address,
        text=effect.text,
        now=ctx.now,
    )


HANDLERS: dict[type, Callable[[EffectContext, Any], None]] = {
    LinkAddress: _link,
    ReserveSeat: _reserve,
    CancelBooking: _cancel,
    SetReminders: _reminders,
    SetReminderChannel: _reminder_channel,
    OptOut: _opt(True),
    OptIn: _opt(False),
    SetLanguage: _language,
    LeaveHelpMessage: _help,
}


def execute_effects(ctx: EffectContext, effects: Iterable[Effect]) -> None:
    for effect in effects:
        try:
            HANDLERS[type(effect)](ctx, effect)
        except BookingRefused as refused:
            raise EffectRefused(effect, refused.reason) from None
