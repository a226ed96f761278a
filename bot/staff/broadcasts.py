"""Broadcasts as staff commands: preview, draft, confirm (or hold for approval), approve,
cancel, the delivery report and the list.

The rules live here once, for the staff API, the console, `passnum broadcast` / `passnum staff`
and the Telegram `/diffuser` `/confirmer` commands:

- who may use a segment: admins any; advisors only `slot:`/`place:` segments of their places;
- who may see a broadcast: admins and its author; advisors, those to a slot or place of theirs;
- the SMS as sent (GSM-7 transliteration), its segments, the cost at `sms_price_eur` a segment;
- the two-person rule above `broadcast_approval_threshold` (storage.broadcast_approval);
- the quiet-hours note: when the first message may leave if it is asked for a quiet time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from bot.outbox.quiet_hours import is_quiet, next_allowed
from bot.staff.service import Command, Context, Handler
from flows.gsm7 import gsm7_length, sms_segments, to_gsm7
from storage.broadcast_approval import check_approver, needs_approval, serialise_confirmations
from storage.broadcast_reports import Report, broadcast_report, latest_broadcasts
from storage.broadcast_segments import Segment, parse_segment, recipients, segment_place
from storage.broadcasts import (
    BroadcastTexts,
    add_draft,
    hold_for_approval,
    queue_broadcast,
    stop_broadcast,
)
from storage.console_queries import place_names, topic_keys
from storage.models import Broadcast
from storage.staff import StaffRefused, require_place
from storage.types import MAX_YEAR, MIN_YEAR, in_service_years

__all__ = [
    "HANDLERS",
    "ApproveBroadcast",
    "BroadcastReport",
    "CancelBroadcast",
    "CancelledBroadcast",
    "ConfirmBroadcast",
    "CreateBroadcast",
    "Draft",
    "ListBroadcasts",
    "Preview",
    "PreviewBroadcast",
    "SegmentChoices",
    "SegmentOptions",
    "SendBroadcast",
]


@dataclass(frozen=True)
class Preview:
    """What a broadcast would do. `{"segment": "unused", "language": null, "recipients": 120,
    "by_channel": {"sms": 100, "telegram": 20}, "sms_text": "Atelier gratuit...",
    "sms_segments": 1, "telegram_text": "Atelier gratuit…", "estimated_cost_eur": 7.0,
    "needs_approval": false, "reach_24h": 120, "characters": 18, "quiet_until": null}`.
    `reach_24h` is what the approval threshold is compared with: these recipients joined with
    the overlapping broadcasts of the last 24 h. `characters` counts the SMS in GSM-7 units;
    `quiet_until` is set when the sending time is in quiet hours: the first allowed moment."""

    segment: str
    language: str | None
    recipients: int
    by_channel: dict[str, int]
    sms_text: str
    sms_segments: int
    telegram_text: str
    estimated_cost_eur: float
    needs_approval: bool
    reach_24h: int
    characters: int
    quiet_until: datetime | None


@dataclass(frozen=True)
class Draft:
    """A new draft and its preview."""

    broadcast: Report
    preview: Preview


@dataclass(frozen=True)
class CancelledBroadcast:
    """A cancelled broadcast and how many of its messages will not be sent."""

    report: Report
    messages_stopped: int


@dataclass(frozen=True)
class SegmentOptions:
    """What the composer offers: (id, name, commune) of the places the staff member may use,
    (key, French label, English label) of the topics."""

    places: list[tuple[int, str, str]]
    topics: list[tuple[str, str, str]]


@dataclass(frozen=True)
class PreviewBroadcast(Command[Preview]):
    """`{"segment": "slot:12", "message": "Atelier annulé", "language": null,
    "send_at": null}` → recipients by channel, SMS, segments, cost; nothing is stored.
    A `send_at` without an offset is in the configured zone."""

    read_only: ClassVar[bool] = True
    segment: str
    message: str
    language: str | None = None
    send_at: datetime | None = None


@dataclass(frozen=True)
class CreateBroadcast(Command[Draft]):
    """`{"segment": "unused", "message": "…", "language": "fr", "send_at": null}`: a draft
    (audited `broadcast.create`); nothing is sent before it is confirmed."""

    segment: str
    message: str
    language: str | None = None
    send_at: datetime | None = None


@dataclass(frozen=True)
class ConfirmBroadcast(Command[Report]):
    """`{"broadcast_id": 4}`: queue the draft, or hold it for a second staff member's approval
    above the threshold (audited `broadcast.confirm`)."""

    broadcast_id: int


@dataclass(frozen=True)
class SendBroadcast(Command[Report]):
    """`{"segment": "all", "message": "…", "language": null, "send_at": null}`: draft and
    confirm in one step (the console's and `passnum broadcast`'s "send"); the recipients are
    chosen at this moment."""

    segment: str
    message: str
    language: str | None = None
    send_at: datetime | None = None


@dataclass(frozen=True)
class ApproveBroadcast(Command[Report]):
    """`{"broadcast_id": 4}`: a second, independent staff member lets a held broadcast go
    (audited `broadcast.approve`)."""

    broadcast_id: int


@dataclass(frozen=True)
class CancelBroadcast(Command[CancelledBroadcast]):
    """`{"broadcast_id": 4}`: stop a draft, held or running broadcast; its messages not yet
    sent are cancelled (audited `broadcast.cancel`)."""

    broadcast_id: int


@dataclass(frozen=True)
class BroadcastReport(Command[Report]):
    """`{"broadcast_id": 4}` → the broadcast and its messages by status."""

    read_only: ClassVar[bool] = True
    broadcast_id: int


@dataclass(frozen=True)
class ListBroadcasts(Command[list[Report]]):
    """`{"limit": 50}` → the latest broadcasts this staff member may see, with their counts."""

    read_only: ClassVar[bool] = True
    limit: int = 50


@dataclass(frozen=True)
class SegmentChoices(Command[SegmentOptions]):
    """`{}` → the places and topics the composer offers as segments."""

    read_only: ClassVar[bool] = True


def _segment(context: Context, text: str) -> Segment:
    """The parsed segment, if this staff member may broadcast to it."""
    segment = parse_segment(text)
    place_id = segment_place(context.session, segment)
    if not context.staff.is_admin and place_id is None:
        raise StaffRefused(
            "forbidden",
            f"advisors may only broadcast to slot:/place: segments of their places, not {segment}",
        )
    if place_id is not None:
        require_place(context.staff, place_id, f"segment {segment}")
    return segment


def _may_see(context: Context, broadcast: Broadcast) -> bool:
    staff = context.staff
    if staff.is_admin or (staff.id is not None and broadcast.created_by == staff.id):
        return True
    try:
        place_id = segment_place(context.session, parse_segment(broadcast.segment))
    except StaffRefused:
        return False
    return place_id is not None and staff.can_see_place(place_id)


def _visible(context: Context, broadcast_id: int) -> Broadcast:
    broadcast = context.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise StaffRefused("not_found", f"no broadcast {broadcast_id}")
    if not _may_see(context, broadcast):
        raise StaffRefused("forbidden", f"broadcast {broadcast_id} is not to one of your places")
    return broadcast


def _local(context: Context, moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if not in_service_years(moment):
        raise StaffRefused("invalid", f"times must be between {MIN_YEAR} and {MAX_YEAR}")
    return moment if moment.tzinfo else moment.replace(tzinfo=context.settings.tz)


def _texts(message: str) -> BroadcastTexts:
    sms = to_gsm7(message)
    return BroadcastTexts(sms=sms, sms_segments=sms_segments(sms), telegram=message)


def _audit(context: Context, action: str, broadcast: Broadcast, detail: str) -> None:
    context.audit(action, f"broadcast:{broadcast.id}", f"{broadcast.segment}: {detail}")


def _preview(
    context: Context,
    segment_text: str,
    message: str,
    language: str | None,
    send_at: datetime | None,
) -> Preview:
    segment = _segment(context, segment_text)
    if not message.strip():
        raise StaffRefused("invalid", "the message is empty")
    when = _local(context, send_at) or context.now
    people = recipients(context.session, segment=segment, language=language, now=context.now)
    by_channel = {"sms": 0, "telegram": 0}
    for _, channel, _ in people:
        by_channel[channel] += 1
    texts = _texts(message.strip())
    held, reach = needs_approval(
        context.session,
        people=people,
        threshold=context.settings.broadcast_approval_threshold,
        now=context.now,
    )
    quiet = is_quiet(when, context.settings)
    return Preview(
        segment=str(segment),
        language=language,
        recipients=len(people),
        by_channel=by_channel,
        sms_text=texts.sms,
        sms_segments=texts.sms_segments,
        telegram_text=texts.telegram,
        estimated_cost_eur=round(
            by_channel["sms"] * texts.sms_segments * context.settings.sms_price_eur, 2
        ),
        needs_approval=held,
        reach_24h=reach,
        characters=gsm7_length(texts.sms),
        quiet_until=next_allowed(when, context.settings) if quiet else None,
    )


def preview_broadcast(context: Context, command: PreviewBroadcast) -> Preview:
    return _preview(context, command.segment, command.message, command.language, command.send_at)


def _create(
    context: Context, command: CreateBroadcast | SendBroadcast
) -> tuple[Broadcast, Preview]:
    seen = _preview(context, command.segment, command.message, command.language, command.send_at)
    draft = add_draft(
        context.session,
        segment=seen.segment,
        message=seen.telegram_text,
        language=command.language,
        send_at=_local(context, command.send_at),
        created_by=context.staff.id,
        recipients=seen.recipients,
        now=context.now,
    )
    _audit(context, "broadcast.create", draft, f"{seen.recipients} recipients")
    return draft, seen


def create_broadcast(context: Context, command: CreateBroadcast) -> Draft:
    draft, seen = _create(context, command)
    return Draft(broadcast=broadcast_report(context.session, draft), preview=seen)


def _people(context: Context, draft: Broadcast) -> list[tuple[int, str, str]]:
    """The recipients as of now: chosen again when the broadcast is confirmed or approved."""
    return recipients(
        context.session,
        segment=parse_segment(draft.segment),
        language=draft.language,
        now=context.now,
    )


def _confirm(context: Context, draft: Broadcast) -> Report:
    session = context.session
    serialise_confirmations(session)
    people = _people(context, draft)
    held, reach = needs_approval(
        session,
        people=people,
        threshold=context.settings.broadcast_approval_threshold,
        now=context.now,
        exclude=draft.id,
    )
    if held:
        hold_for_approval(session, draft, recipients=len(people))
        detail = f"waits for a second approval ({reach} people with the last 24 h)"
    else:
        queue_broadcast(
            session,
            draft,
            expected="draft",
            people=people,
            texts=_texts(draft.message),
            now=context.now,
        )
        detail = f"{len(people)} queued"
    _audit(context, "broadcast.confirm", draft, detail)
    return broadcast_report(session, draft)


def confirm_broadcast(context: Context, command: ConfirmBroadcast) -> Report:
    return _confirm(context, _visible(context, command.broadcast_id))


def send_broadcast(context: Context, command: SendBroadcast) -> Report:
    draft, _ = _create(context, command)
    return _confirm(context, draft)


def approve_broadcast(context: Context, command: ApproveBroadcast) -> Report:
    draft = _visible(context, command.broadcast_id)
    check_approver(context.session, approver_id=context.staff.id, draft=draft, now=context.now)
    people = _people(context, draft)
    queue_broadcast(
        context.session,
        draft,
        expected="pending_approval",
        people=people,
        texts=_texts(draft.message),
        now=context.now,
        approved_by=context.staff.id,
    )
    _audit(context, "broadcast.approve", draft, f"{len(people)} queued")
    return broadcast_report(context.session, draft)


def cancel_broadcast(context: Context, command: CancelBroadcast) -> CancelledBroadcast:
    draft = _visible(context, command.broadcast_id)
    stopped = stop_broadcast(context.session, draft, now=context.now)
    _audit(context, "broadcast.cancel", draft, f"{stopped} messages cancelled")
    return CancelledBroadcast(broadcast_report(context.session, draft), stopped)


def report_of_broadcast(context: Context, command: BroadcastReport) -> Report:
    return broadcast_report(context.session, _visible(context, command.broadcast_id))


def list_broadcasts(context: Context, command: ListBroadcasts) -> list[Report]:
    rows = latest_broadcasts(context.session, limit=command.limit * 4)
    seen = [row for row in rows if _may_see(context, row)][: command.limit]
    return [broadcast_report(context.session, row) for row in seen]


def segment_choices(context: Context, command: SegmentChoices) -> SegmentOptions:
    return SegmentOptions(
        places=place_names(context.session, staff=context.staff),
        topics=topic_keys(context.session),
    )


HANDLERS: dict[type[Any], Handler] = {
    PreviewBroadcast: preview_broadcast,
    CreateBroadcast: create_broadcast,
    ConfirmBroadcast: confirm_broadcast,
    SendBroadcast: send_broadcast,
    ApproveBroadcast: approve_broadcast,
    CancelBroadcast: cancel_broadcast,
    BroadcastReport: report_of_broadcast,
    ListBroadcasts: list_broadcasts,
    SegmentChoices: segment_choices,
}
