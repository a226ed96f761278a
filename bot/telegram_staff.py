"""Staff commands in Telegram, for chats linked to a staff member only.

- `/start staff-<token>`: links the chat (token from `passnum staff telegram-link ID`); handled
  in group -1, before the beneficiaries' /start, which never sees `staff-` tokens.
- `/diffuser <segment> <message>`: preview; `/confirmer <id>` queues it (or asks for approval).
- `/presence <slot id>`: who is booked; `/present <booking id>`, `/absent <booking id>`.
- `/stats`: the totals.
Webhook updates are "message" only, so confirmation is a command, not an inline button.
These texts are for staff, not beneficiaries: they live here, not in the message catalogs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes

from config import Settings
from storage.broadcasts import confirm_broadcast, create_broadcast
from storage.db import unit_of_work
from storage.slots_admin import mark_attendance, slot_attendees
from storage.staff import (
    LINK_PREFIX,
    StaffIdentity,
    StaffRefused,
    audit,
    link_staff_chat,
    staff_for_chat,
)
from storage.stats import staff_stats

__all__ = ["register_staff_handlers"]

STAFF_GROUP = -1
Work = Callable[[Session, StaffIdentity], str]


def register_staff_handlers(
    application: Application,
    settings: Settings,  # type: ignore[type-arg]
    engine: Engine,
) -> None:
    """Add the staff commands, ahead of the beneficiary conversation."""
    application.bot_data["staff_settings"] = settings
    application.bot_data["staff_engine"] = engine
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


async def _reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def _on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    token = context.args[0] if context.args else ""
    if not token.startswith(LINK_PREFIX) or update.effective_chat is None:
        return  # a beneficiary's /start: the conversation handler takes it
    chat_id, engine = update.effective_chat.id, context.bot_data["staff_engine"]
    staff = await asyncio.to_thread(_link, engine, token, chat_id)
    await _reply(
        update,
        f"Bonjour {staff.name}, ce chat est lié à votre compte équipe. "
        "Commandes : /diffuser, /presence, /stats"
        if staff
        else "Ce lien n'est pas valable (déjà utilisé ou expiré).",
    )
    raise ApplicationHandlerStop


def _link(engine: Engine, token: str, chat_id: int) -> StaffIdentity | None:
    with unit_of_work(engine) as session:
        staff = link_staff_chat(session, token=token, chat_id=chat_id, now=_now())
        if staff is None:
            audit(
                session,
                actor=f"telegram:{chat_id}",
                action="refused.staff_link",
                record=None,
                now=_now(),
            )
        session.commit()
    return staff


async def _as_staff(update: Update, context: ContextTypes.DEFAULT_TYPE, work: Work) -> None:
    """Run `work` for the staff member of this chat, in one transaction; reply its text."""
    chat = update.effective_chat
    if chat is None:
        raise ApplicationHandlerStop
    engine = context.bot_data["staff_engine"]
    text = await asyncio.to_thread(_run, engine, chat.id, work)
    await _reply(update, text)
    raise ApplicationHandlerStop


def _run(engine: Engine, chat_id: int, work: Work) -> str:
    with unit_of_work(engine) as session:
        staff = staff_for_chat(session, chat_id=chat_id)
        if staff is None:
            audit(
                session,
                actor=f"telegram:{chat_id}",
                action="refused.not_staff",
                record=None,
                now=_now(),
            )
            session.commit()
            return "Cette commande est réservée à l'équipe."
        try:
            text = work(session, staff)
        except StaffRefused as refused:
            session.rollback()
            audit(
                session,
                actor=f"staff:{staff.id}:{staff.name}",
                action=f"refused.{refused.kind}",
                record=f"telegram:{chat_id}",
                detail=refused.message,
                now=_now(),
            )
            text = f"Refusé : {refused.message}"
        session.commit()
        return text


def _number(args: list[str] | None, usage: str) -> int:
    if not args or not args[0].isdigit():
        raise StaffRefused("invalid", f"usage : {usage}")
    return int(args[0])


async def _on_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    settings: Settings = context.bot_data["staff_settings"]

    def work(session: Session, staff: StaffIdentity) -> str:
        if len(args) < 2:
            raise StaffRefused("invalid", "usage : /diffuser <segment> <message>")
        draft, seen = create_broadcast(
            session,
            staff=staff,
            segment=args[0],
            message=" ".join(args[1:]),
            language=None,
            send_at=None,
            now=_now(),
            price_eur=settings.sms_price_eur,
            threshold=settings.broadcast_approval_threshold,
        )
        approval = "\nUn second membre de l'équipe devra approuver." if seen.needs_approval else ""
        return (
            f"Aperçu ({seen.segment}) : {seen.recipients} destinataires "
            f"({seen.by_channel['sms']} SMS, {seen.by_channel['telegram']} Telegram), "
            f"{seen.sms_segments} segment(s) SMS, coût estimé "
            f"{seen.estimated_cost_eur:.2f} €.\nSMS : {seen.sms_text}{approval}\n"
            f"Pour envoyer : /confirmer {draft.id}"
        )

    await _as_staff(update, context, work)


async def _on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    threshold = context.bot_data["staff_settings"].broadcast_approval_threshold

    def work(session: Session, staff: StaffIdentity) -> str:
        broadcast_id = _number(context.args, "/confirmer <numéro de diffusion>")
        draft = confirm_broadcast(
            session, staff=staff, broadcast_id=broadcast_id, now=_now(), threshold=threshold
        )
        if draft.status == "pending_approval":
            return f"Diffusion {broadcast_id} en attente d'approbation."
        return f"Diffusion {broadcast_id} : {draft.recipients} messages en file d'envoi."

    await _as_staff(update, context, work)


async def _on_presence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    def work(session: Session, staff: StaffIdentity) -> str:
        slot_id = _number(context.args, "/presence <numéro de créneau>")
        people = slot_attendees(session, staff=staff, slot_id=slot_id)
        if not people:
            return f"Personne n'est inscrit au créneau {slot_id}."
        lines = [f"{p.booking_id} · {p.first_name} · {p.status}" for p in people]
        return "\n".join(
            [f"Créneau {slot_id} :", *lines, "Marquer : /present <n°> ou /absent <n°>"]
        )

    await _as_staff(update, context, work)


def _attendance(attended: bool) -> Any:
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        policy = context.bot_data["staff_settings"].no_show_policy

        def work(session: Session, staff: StaffIdentity) -> str:
            booking_id = _number(context.args, "/present <n°> ou /absent <n°>")
            booking = mark_attendance(
                session,
                staff=staff,
                booking_id=booking_id,
                attended=attended,
                no_show_policy=policy,
                now=_now(),
            )
            return f"Réservation {booking_id} : {booking.status}."

        await _as_staff(update, context, work)

    return handler


async def _on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    price = context.bot_data["staff_settings"].sms_price_eur

    def work(session: Session, staff: StaffIdentity) -> str:
        totals = staff_stats(session, staff=staff, price_eur=price).totals
        return "\n".join(f"{name.replace('_', ' ')} : {value:g}" for name, value in totals.items())

    await _as_staff(update, context, work)
