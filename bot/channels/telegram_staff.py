"""Staff commands in Telegram, for chats linked to a staff member only.

- `/start staff-<token>`: links the chat (token from `passnum staff telegram-link ID`); handled
  in group -1, before the beneficiaries' /start, which never sees `staff-` tokens.
- `/diffuser <segment> <message>`: preview; `/confirmer <id>` queues it (or asks for approval).
- `/presence <slot id>`: who is booked; `/present <booking id>`, `/absent <booking id>`.
- `/stats`: the totals.
Webhook updates are "message" only, so confirmation is a command, not an inline button.
These texts are for staff, not beneficiaries: they live in `config/staff_catalogs/`, not in the
SMS catalogs. Staff accounts have no language; `STAFF_LANGUAGE` picks the catalog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes

from bot.bootstrap import build_staff_service
from bot.staff import Command, StaffService
from bot.staff.bookings import BookingView, MarkAttendance, SlotAttendees
from bot.staff.broadcasts import ConfirmBroadcast, CreateBroadcast, Draft
from bot.staff.stats import Statistics
from config import Settings
from config.catalogs import load_staff_texts
from storage.broadcast_reports import Report
from storage.db import unit_of_work
from storage.pseudonyms import address_pseudonym
from storage.slots_admin import Attendee
from storage.staff import (
    LINK_PREFIX,
    StaffIdentity,
    StaffRefused,
    audit,
    link_staff_chat,
    staff_for_chat,
)
from storage.stats import Stats

__all__ = ["register_staff_handlers"]

STAFF_GROUP = -1
STAFF_LANGUAGE = "fr"
T = TypeVar("T")


def register_staff_handlers(
    application: Application,
    settings: Settings,  # type: ignore[type-arg]
    engine: Engine,
) -> None:
    """Add the staff commands, ahead of the beneficiary conversation."""
    application.bot_data["staff_settings"] = settings
    application.bot_data["staff_engine"] = engine
    application.bot_data["staff_service"] = build_staff_service(engine, settings)
    commands: dict[str, Any] = {
        "start": _on_start,
        "diffuser": _on_broadcast,
        "confirmer": _on_confirm,
        "presence": _on_presence,
        "present": _attendance(True),
        "absent": _attendance(False),
        "stats": _on_stats,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback), group=STAFF_GROUP)


def _now() -> datetime:
    return datetime.now(UTC)


@cache
def _catalog(language: str) -> dict[str, str]:
    return load_staff_texts()[language]


def _text(key: str, **params: Any) -> str:
    """The staff text `key` in `STAFF_LANGUAGE`, filled with `params`."""
    return _catalog(STAFF_LANGUAGE)[key].format(**params)


async def _reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def _on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    token = context.args[0] if context.args else ""
    if not token.startswith(LINK_PREFIX) or update.effective_chat is None:
        return  # a beneficiary's /start: the conversation handler takes it
    chat_id, engine = update.effective_chat.id, context.bot_data["staff_engine"]
    staff = await asyncio.to_thread(_link, engine, token, chat_id, _stranger(context, chat_id))
    await _reply(
        update,
        _text("staff.linked", name=staff.name) if staff else _text("staff.link_invalid"),
    )
    raise ApplicationHandlerStop


def _stranger(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> str:
    """How the audit log names a chat that is not (yet) staff: never its chat id."""
    secret = context.bot_data["staff_settings"].pseudonym_secret
    return address_pseudonym(channel="telegram", address=f"tg:{chat_id}", secret=secret)


def _link(engine: Engine, token: str, chat_id: int, stranger: str) -> StaffIdentity | None:
    with unit_of_work(engine) as session:
        staff = link_staff_chat(session, token=token, chat_id=chat_id, now=_now())
        if staff is None:
            audit(
                session,
                actor=stranger,
                action="refused.staff_link",
                record=None,
                now=_now(),
            )
        session.commit()
    return staff


async def _as_staff_command(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    command: Callable[[], Command[T]],
    say: Callable[[T], str],
) -> None:
    """Run a staff command (`bot.staff`) for the staff member of this chat; reply `say(result)`,
    or the refusal (audited by the service, with the command as origin)."""
    chat = update.effective_chat
    if chat is None:
        raise ApplicationHandlerStop
    service: StaffService = context.bot_data["staff_service"]
    typed = update.effective_message.text if update.effective_message else None
    origin = "telegram " + (typed or "").split(" ", 1)[0]
    stranger = _stranger(context, chat.id)
    text = await asyncio.to_thread(_handle, service, chat.id, command, say, origin, stranger)
    await _reply(update, text)
    raise ApplicationHandlerStop


def _handle(
    service: StaffService,
    chat_id: int,
    command: Callable[[], Command[T]],
    say: Callable[[T], str],
    origin: str,
    stranger: str,
) -> str:
    staff = _staff_of_chat(service.engine, chat_id, stranger)
    if staff is None:
        return _text("staff.not_staff")
    try:
        wanted = command()
    except StaffRefused as usage:  # wrong arguments: refused and audited like a handler's refusal
        service.audit_refusal(staff, usage, origin)
        return _text("staff.refused", reason=usage.message)
    try:
        return say(service.handle(staff, wanted, origin=origin))
    except StaffRefused as refused:  # the handler's refusal, audited by the service
        return _text("staff.refused", reason=refused.message)


def _staff_of_chat(engine: Engine, chat_id: int, stranger: str) -> StaffIdentity | None:
    """The staff member linked to this chat; None, audited as `refused.not_staff`, if none."""
    with unit_of_work(engine) as session:
        staff = staff_for_chat(session, chat_id=chat_id)
        if staff is None:
            audit(session, actor=stranger, action="refused.not_staff", record=None, now=_now())
            session.commit()
    return staff


def _number(args: list[str] | None, usage_key: str) -> int:
    if not args or not args[0].isdigit():
        raise StaffRefused("invalid", _text(usage_key))
    return int(args[0])


async def _on_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []

    def command() -> CreateBroadcast:
        if len(args) < 2:
            raise StaffRefused("invalid", _text("staff.usage_broadcast"))
        return CreateBroadcast(segment=args[0], message=" ".join(args[1:]))

    def say(draft: Draft) -> str:
        seen = draft.preview
        preview = _text(
            "staff.preview",
            segment=seen.segment,
            recipients=seen.recipients,
            sms=seen.by_channel["sms"],
            telegram=seen.by_channel["telegram"],
            sms_segments=seen.sms_segments,
            cost=seen.estimated_cost_eur,
            sms_text=seen.sms_text,
        )
        approval = [_text("staff.needs_approval")] if seen.needs_approval else []
        send_hint = _text("staff.send_hint", broadcast_id=draft.broadcast.id)
        return "\n".join([preview, *approval, send_hint])

    await _as_staff_command(update, context, command, say)


async def _on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    def command() -> ConfirmBroadcast:
        return ConfirmBroadcast(broadcast_id=_number(context.args, "staff.usage_confirm"))

    def say(report: Report) -> str:
        if report.status == "pending_approval":
            return _text("staff.pending_approval", broadcast_id=report.id)
        return _text("staff.queued", broadcast_id=report.id, recipients=report.recipients)

    await _as_staff_command(update, context, command, say)


async def _on_presence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    def command() -> SlotAttendees:
        return SlotAttendees(slot_id=_number(context.args, "staff.usage_presence"))

    def answer(people: list[Attendee]) -> str:
        slot_id = int((context.args or ["0"])[0])  # checked by command()
        if not people:
            return _text("staff.no_attendees", slot_id=slot_id)
        lines = [
            _text(
                "staff.presence_line",
                booking_id=p.booking_id,
                first_name=p.first_name,
                status=p.status,
            )
            for p in people
        ]
        header = _text("staff.presence_header", slot_id=slot_id)
        return "\n".join([header, *lines, _text("staff.presence_footer")])

    await _as_staff_command(update, context, command, answer)


def _attendance(attended: bool) -> Any:
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        def command() -> MarkAttendance:
            booking_id = _number(context.args, "staff.usage_attendance")
            return MarkAttendance(booking_id=booking_id, attended=attended)

        def answer(booking: BookingView) -> str:
            return _text("staff.attendance_marked", booking_id=booking.id, status=booking.status)

        await _as_staff_command(update, context, command, answer)

    return handler


async def _on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    def say(stats: Stats) -> str:
        return "\n".join(
            _text("staff.stats_line", name=name.replace("_", " "), value=value)
            for name, value in stats.totals.items()
        )

    await _as_staff_command(update, context, Statistics, say)
