"""The conversation service: one inbound message in, the replies out, state and effects
committed in one transaction. Every channel (Twilio webhook, Telegram, `passnum chat`)
calls this."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

import flows
from bot.channels.effects import EffectContext, EffectRefused, execute_effects
from bot.outbox.notices import notice_composer
from config import Settings
from config.catalogs import available_languages
from config.lexicon import load_lexicons
from flows.lexicon import build_lexicon
from flows.types import Ctx, FlowSettings, Input, Rejected, Reply, Step, Text
from storage.abuse import InboundLimits, judge_inbound
from storage.conversation_store import (
    Arrival,
    ConversationStore,
    Holder,
    WouldWait,
    conversation_unit,
)
from storage.conversations import save_reply_left_to_send
from storage.db import unit_of_work
from storage.geo import PlaceResolver, default_resolver
from storage.identity import beneficiary_for_address, set_beneficiary_flags
from storage.opt_outs import set_opt_out
from storage.phones import is_french, mask_phone
from storage.turn_directory import TurnDirectory

__all__ = ["Assistant", "Turn", "WouldWait", "sms_address", "telegram_address"]

log = logging.getLogger(__name__)


def _opt_out_request(message: Input, opt_out_type: str | None) -> bool | None:
    """True for STOP, False for START (the provider's word first), None for anything else."""
    if opt_out_type in {"STOP", "START"}:
        return opt_out_type == "STOP"
    if not isinstance(message, Text):
        return None
    intent = flows.opt_out_intent(message.text)  # the conversation's own rule
    return None if intent is None else intent == "stop"


def _apply_opt_out(
    store: ConversationStore,
    channel: str,
    address: str,
    holder: Holder | None,
    opted_out: bool,
    now: datetime,
) -> None:
    """STOP / START without running the conversation: the tables and the saved state agree."""
    set_opt_out(
        store.session(),
        channel=channel,
        address=address,
        beneficiary_id=holder.id if holder else None,
        opted_out=opted_out,
        now=now,
    )
    state, _stopped = store.state(address=address)
    if state is not None:
        store.save_state(address=address, state={**state, "opted_out": opted_out}, now=now)


def sms_address(phone: str) -> str:
    return phone


def telegram_address(chat_id: int) -> str:
    return f"tg:{chat_id}"


@dataclass(frozen=True)
class Turn:
    """What one inbound message produced: the replies (unrendered) and their language."""

    replies: list[Reply]
    language: str
    duplicate: bool = False
    stored_reply: str | None = None
    refused: bool = False  # over a flood limit: stored, not answered


class Assistant:
    """Runs the flows against the database for one channel address at a time."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        resolver: PlaceResolver | None = None,
        clock: Callable[[], datetime] | None = None,
        limits: InboundLimits | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.resolver = resolver or default_resolver()
        self.notices = notice_composer(settings)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.limits = limits or InboundLimits()
        self.flow_settings = FlowSettings(
            conversation_timeout=settings.conversation_timeout_delta,
            cancel_cutoff=timedelta(hours=settings.cancel_cutoff_hours),
            sms_two_way=settings.sms_two_way,
            languages=available_languages(),
            voice_reminders=settings.voice_reminders,
            lexicon=build_lexicon(load_lexicons()),
            timezone=settings.tz,
        )

    def handle(
        self,
        *,
        channel: str,
        address: str,
        message: Input,
        provider_id: str | None = None,
        body: str | None = None,
        now: datetime | None = None,
        on_commit: Callable[[Turn], str | None] | None = None,
        opt_out_type: str | None = None,
        wait: bool = True,
    ) -> Turn:
        """Process one message; a provider id seen before returns the first answer again.

        STOP and START (or the provider's `opt_out_type`, Twilio's OptOutType) are honoured
        before the flood limits: over a limit they are applied without an answer.
        `on_commit` renders the reply before the commit so it is stored with the inbound row.
        `wait=False` (SQLite, from the event loop) raises WouldWait, before doing anything,
        when another writer holds the database.
        """
        now = now or self.clock()
        opt_out = _opt_out_request(message, opt_out_type)
        if opt_out_type in {"STOP", "START"}:
            message = Text(opt_out_type)  # the provider recognised it: the flows must too
        with conversation_unit(self.engine, wait=wait) as store:
            if provider_id is None:  # a terminal chat: no delivery to deduplicate or count
                holder, inbound_id = store.holder(address=address), None
            else:
                arrival = store.arrive(
                    channel=channel,
                    provider_id=provider_id,
                    address=address,
                    body=body,
                    now=now,
                    limits=self.limits,
                    unknown_answerable=channel != "sms" or is_french(address),
                )
                if arrival.record.duplicate:
                    return Turn([], "fr", duplicate=True, stored_reply=arrival.record.reply)
                holder, inbound_id = arrival.holder, arrival.record.id
                if not self._may_answer(arrival, channel=channel, address=address):
                    if opt_out is not None:
                        _apply_opt_out(store, channel, address, holder, opt_out, now)
                    store.commit()  # keep the record: it counts toward the limits
                    return Turn([], "fr", refused=True)
            turn = self._run(
                store, holder, channel=channel, address=address, message=message, now=now
            )
            if on_commit is not None:
                rendered = on_commit(turn)
                if inbound_id is not None:
                    store.save_reply(inbound_id=inbound_id, reply=rendered)
            store.commit()
            return turn

    def _may_answer(self, arrival: Arrival, *, channel: str, address: str) -> bool:
        """Flood limits, and SMS or voice answers only to French numbers or known beneficiaries."""
        holder = arrival.holder
        if channel in ("sms", "voice") and holder is None and not is_french(address):
            log.warning(
                "%s from non-French unknown number %s: no reply", channel, mask_phone(address)
            )
            return False
        verdict = judge_inbound(
            arrival.count,
            channel=channel,
            address=address,
            beneficiary_id=holder.id if holder else None,
            limits=self.limits,
        )
        if not verdict.allowed:
            log.warning(
                "inbound %s limit reached for %s: no reply", verdict.limit, mask_phone(address)
            )
        return verdict.allowed

    def record_delivery_status(self, provider_id: str, status: str, error_code: str | None) -> None:
        """A Twilio status callback: move the outbound message forward; 21610 means opted out."""
        from bot.outbox.twilio_sms import OPTED_OUT_ERROR
        from storage.identity import opt_out_by_provider_id
        from storage.outbox import apply_status_callback

        with unit_of_work(self.engine) as session:
            apply_status_callback(
                session,
                provider_id=provider_id,
                status=status,
                error=f"twilio error {error_code}" if error_code else None,
                now=self.clock(),
            )
            if error_code == str(OPTED_OUT_ERROR):
                opt_out_by_provider_id(session, provider_id=provider_id)
            session.commit()

    def save_telegram_reply_left(self, update_id: int, reply: str | None) -> None:
        """What is left to send of an update's answer (None: all sent, or nothing to send)."""
        with unit_of_work(self.engine) as session:
            save_reply_left_to_send(
                session, channel="telegram", provider_id=str(update_id), reply=reply
            )
            session.commit()

    def mark_telegram_unreachable(self, chat_id: int) -> None:
        with unit_of_work(self.engine) as session:
            holder = beneficiary_for_address(
                session, channel="telegram", address=telegram_address(chat_id)
            )
            if holder is not None and holder.id is not None:
                set_beneficiary_flags(session, beneficiary_id=holder.id, telegram_unreachable=True)
                session.commit()

    def _run(
        self,
        store: ConversationStore,
        holder: Holder | None,
        *,
        channel: str,
        address: str,
        message: Input,
        now: datetime,
    ) -> Turn:
        saved = store.conversation(address=address, holder=holder, now=now)
        ctx = Ctx(
            now=now,
            channel=channel,
            address=address,
            beneficiary=holder.view if holder else None,
            directory=TurnDirectory(store, resolver=self.resolver, now=now, notices=self.notices),
            settings=self.flow_settings,
            notice=saved.notice,
        )
        state = saved.state
        if saved.stopped:
            state = {**(state or {}), "opted_out": True}  # said STOP, maybe before any state
        step = flows.handle(state, message, ctx)
        beneficiary_id = holder.id if holder else None
        if step.effects:
            beneficiary_id, step = self._apply_effects(
                store, step, state, ctx, channel=channel, address=address, holder=holder
            )
        if beneficiary_id is not None and (holder is None or holder.last_channel != channel):
            store.set_last_channel(beneficiary_id=beneficiary_id, channel=channel)
        store.save_state(address=address, state=step.state, now=now)
        return Turn(step.replies, str(step.state.get("language") or "fr"))

    def _apply_effects(
        self,
        store: ConversationStore,
        step: Step,
        state: dict[str, Any] | None,
        ctx: Ctx,
        *,
        channel: str,
        address: str,
        holder: Holder | None,
    ) -> tuple[int | None, Step]:
        """The step's effects through the ORM, in a savepoint; a refusal from the store
        runs the flow again with `Rejected`. Returns the beneficiary after them (a linked
        booklet changes it) and the step that stands."""
        session = store.session()
        effects = EffectContext(
            session=session,
            channel=channel,
            address=address,
            beneficiary_id=holder.id if holder else None,
            now=ctx.now,
            settings=self.settings,
        )
        try:
            with session.begin_nested():
                execute_effects(effects, step.effects)
        except EffectRefused as refused:
            log.info("effect refused: %s", refused)
            rejected = Rejected(effect=refused.effect, reason=refused.reason)
            step = flows.handle(state, rejected, ctx)
            execute_effects(effects, step.effects)
        return effects.beneficiary_id, step
