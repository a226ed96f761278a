"""Telegram with python-telegram-bot 22: handlers that turn updates into flow inputs and send
the replies with keyboards. Webhook mode behind HTTPS, polling otherwise."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import Forbidden
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.assistant import Assistant, Turn, telegram_address
from bot.channels.presenter import (
    Presenter,
    TelegramMessage,
    keyboard_rows,
    telegram_messages_from_json,
    telegram_messages_to_json,
)
from bot.channels.telegram_worker import remember_update_error
from config import Settings
from flows.types import Contact, Input, Location, Start, Text
from storage.phones import InvalidPhone, normalize_phone

__all__ = ["build_telegram_application", "keyboard_markup", "webhook_mode"]

log = logging.getLogger(__name__)


def webhook_mode(settings: Settings) -> bool:
    """Webhook when Telegram can reach us over HTTPS with a secret; polling otherwise."""
    return bool(settings.telegram_webhook_secret) and settings.public_url.startswith("https://")


def build_telegram_application(
    settings: Settings, assistant: Assistant, presenter: Presenter
) -> Application:  # type: ignore[type-arg]
    """Handlers only: updates reach it from the database (`bot.channels.telegram_worker`), fed
    by the webhook route or the poller, never by PTB's own Updater (it would confirm updates to
    Telegram before they are stored)."""
    api = settings.telegram_api_base.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token or "")
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=2))
        .updater(None)
    )
    application = builder.build()
    application.bot_data["assistant"] = assistant
    application.bot_data["presenter"] = presenter
    new = filters.UpdateType.MESSAGE  # an edited message is not a new command
    application.add_handler(CommandHandler("start", _on_start, filters=new))
    application.add_handler(CommandHandler("menu", _text_command("MENU"), filters=new))
    application.add_handler(CommandHandler(["aide", "help"], _text_command("AIDE"), filters=new))
    application.add_handler(MessageHandler(new & filters.LOCATION, _on_location))
    application.add_handler(MessageHandler(new & filters.CONTACT, _on_contact))
    application.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, _on_text))
    application.add_error_handler(remember_update_error)
    from bot.channels.telegram_staff import register_staff_handlers  # staff commands run first

    register_staff_handlers(application, settings, assistant.engine)
    return application


async def _on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    token = context.args[0] if context.args else None
    await _converse(update, context, Start(token=token))


def _text_command(word: str) -> Any:
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await _converse(update, context, Text(word))

    return handler


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await _converse(update, context, Text(update.effective_message.text or ""))


async def _on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.location
    where = update.effective_message.location
    await _converse(update, context, Location(latitude=where.latitude, longitude=where.longitude))


async def _on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.contact
    contact = update.effective_message.contact
    sender = update.effective_user.id if update.effective_user else None
    # Telegram sends international numbers without the leading "+" ("33612345678").
    raw = contact.phone_number.strip()
    try:
        phone = normalize_phone(raw if raw.startswith("+") else "+" + raw)
    except InvalidPhone:
        phone = raw
    await _converse(update, context, Contact(phone=phone, is_own=contact.user_id == sender))


async def _converse(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Input) -> None:
    """Run the conversation off the event loop (it talks to the database), then reply.

    The answer is stored with the inbound row in the turn's own commit, and what is left of it
    after each message sent: an update processed again (after a crash, or a failed send) sends
    only what had not gone yet."""
    chat = update.effective_chat
    if chat is None:
        return
    assistant: Assistant = context.bot_data["assistant"]
    presenter: Presenter = context.bot_data["presenter"]
    rendered: list[TelegramMessage] = []

    def keep_answer(turn: Turn) -> str | None:
        rendered.extend(presenter.telegram(turn))
        return telegram_messages_to_json(rendered)

    turn = await asyncio.to_thread(
        assistant.handle,
        channel="telegram",
        address=telegram_address(chat.id),
        message=message,
        provider_id=str(update.update_id),
        body=_body(message),
        on_commit=keep_answer,
    )
    to_send = telegram_messages_from_json(turn.stored_reply) if turn.duplicate else rendered
    await _send_all(context, update.update_id, chat.id, to_send, assistant)


async def _send_all(
    context: ContextTypes.DEFAULT_TYPE,
    update_id: int,
    chat_id: int,
    messages: list[TelegramMessage],
    assistant: Assistant,
) -> None:
    """Send in order, recording after each message what is left; a failed send raises (the
    worker tries the update again later), a chat that blocked the bot is told nothing more."""
    for sent, reply in enumerate(messages, start=1):
        try:
            await context.bot.send_message(
                chat_id=chat_id, text=reply.text, reply_markup=keyboard_markup(keyboard_rows(reply))
            )
        except Forbidden:
            log.info("telegram chat %s blocked the bot: marked unreachable", chat_id)
            await asyncio.to_thread(assistant.mark_telegram_unreachable, chat_id)
            await asyncio.to_thread(assistant.save_telegram_reply_left, update_id, None)
            return
        left = telegram_messages_to_json(messages[sent:])
        await asyncio.to_thread(assistant.save_telegram_reply_left, update_id, left)


def keyboard_markup(rows: list[list[tuple[str, str | None]]] | None) -> Any:
    """Rows of (label, request) → a reply keyboard; request is 'location', 'contact' or None."""
    if not rows:
        return ReplyKeyboardRemove()
    buttons = [
        [
            KeyboardButton(
                label, request_location=request == "location", request_contact=request == "contact"
            )
            for label, request in row
        ]
        for row in rows
    ]
    return ReplyKeyboardMarkup(buttons, resize_keyboard=True, one_time_keyboard=True)


def _body(message: Input) -> str | None:
    return message.text if isinstance(message, Text) else type(message).__name__.lower()
