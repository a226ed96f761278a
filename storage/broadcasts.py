"""Broadcasts: a message to a segment of beneficiaries, through the outbox.

Life of a broadcast: `draft` (composed, previewed) → confirmed → `queued` (its outbox rows exist,
the dispatcher sends them with pacing and quiet hours), or `pending_approval` first when it has
more recipients than the approval threshold, until a second, different staff member approves.
`cancelled` at any point: outbox rows not yet claimed are cancelled with it.

Segments (SPEC section 5): `all`, `unused`, `slot:ID`, `place:ID` (booked on an upcoming slot
there), `commune:NAME-OR-INSEE`, `topic:KEY` (booked or attended a session of the topic).
Opted-out and erased people are never in a segment. Advisors may only use `slot:`/`place:`
segments of their own places. Recipients are one query and one bulk insert (100,000 in seconds);
each row's dedupe key `broadcast:<id>:<beneficiary>` makes "once each" a database fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, true, update
from sqlmodel import Session

from flows.gsm7 import sms_segments, to_gsm7
from storage.geo import default_resolver
from storage.models import (
    Beneficiary,
    Booking,
    BookingStatus,
    Booklet,
    Broadcast,
    Slot,
    Topic,
    Voucher,
    VoucherStatus,
)
from storage.models import OutboundMessage as Msg
from storage.models import OutboundStatus as S
from storage.outbox import enqueue_many
from storage.reminders import PERSON_COLUMNS, Person, choose_address
from storage.staff import StaffIdentity, StaffRefused, actor_of, audit, require_place

__all__ = [
    "Preview",
    "Report",
    "Segment",
    "approve_broadcast",
    "broadcast_report",
    "cancel_broadcast",
    "confirm_broadcast",
    "create_broadcast",
    "list_broadcasts",
    "parse_segment",
    "preview",
]

KINDS = ("all", "unused", "slot", "place", "commune", "topic")
LIVE_STATES = ("draft", "pending_approval", "queued")


@dataclass(frozen=True)
class Segment:
    """A parsed segment. `{"kind": "slot", "value": "12"}`"""

    kind: str
    value: str | None = None

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Preview:
    """What a broadcast would do. `{"segment": "unused", "language": null, "recipients": 120,
    "by_channel": {"sms": 100, "telegram": 20}, "sms_text": "Atelier gratuit...",
    "sms_segments": 1, "telegram_text": "Atelier gratuit…", "estimated_cost_eur": 7.0,
    "needs_approval": false}`"""

    segment: str
    language: str | None
    recipients: int
    by_channel: dict[str, int]
    sms_text: str
    sms_segments: int
    telegram_text: str
    estimated_cost_eur: float
    needs_approval: bool


@dataclass(frozen=True)
class Report:
    """A broadcast and its outbox rows by status. `{"id": 4, "status": "queued",
    "recipients": 2000, "counts": {"queued": 10, "sent": 1990}, "finished": false, ...}`"""

    id: int
    segment: str
    message: str
    language: str | None
    status: str
    send_at: datetime | None
    created_by: int | None
    approved_by: int | None
    recipients: int
    counts: dict[str, int]

    @property
    def finished(self) -> bool:
        pending = self.counts.get(S.QUEUED.value, 0) + self.counts.get(S.SENDING.value, 0)
        return self.status in ("queued", "cancelled") and pending == 0


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


def check_segment(session: Session, staff: StaffIdentity, segment: Segment) -> None:
    """Advisors broadcast only to their places' slots and places."""
    place_id = segment_place(session, segment)
    if not staff.is_admin and place_id is None:
        raise StaffRefused(
            "forbidden",
            f"advisors may only broadcast to slot:/place: segments of their places, not {segment}",
        )
    if place_id is not None:
        require_place(staff, place_id, f"segment {segment}")


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
    query = select(*PERSON_COLUMNS).where(
        _member_condition(session, segment, now),
        Beneficiary.opted_out.is_(False),
        Beneficiary.erased_at.is_(None),
    )
    if language:
        query = query.where(Beneficiary.language == language)
    found = []
    for row in session.execute(query):
        target = choose_address(Person(*row))
        if target is not None:
            found.append((row[0], *target))
    return found


def preview(
    session: Session,
    *,
    staff: StaffIdentity,
    segment: str,
    message: str,
    language: str | None,
    now: datetime,
    price_eur: float,
    threshold: int,
) -> Preview:
    """Recipients by channel, the SMS as it will go out, its segments and estimated cost."""
    parsed = parse_segment(segment)
    check_segment(session, staff, parsed)
    if not message.strip():
        raise StaffRefused("invalid", "the message is empty")
    people = recipients(session, segment=parsed, language=language, now=now)
    by_channel = {"sms": 0, "telegram": 0}
    for _, channel, _ in people:
        by_channel[channel] += 1
    sms = to_gsm7(message.strip())
    parts = sms_segments(sms)
    return Preview(
        str(parsed),
        language,
        len(people),
        by_channel,
        sms,
        parts,
        message.strip(),
        round(by_channel["sms"] * parts * price_eur, 2),
        len(people) > threshold,
    )


def create_broadcast(
    session: Session,
    *,
    staff: StaffIdentity,
    segment: str,
    message: str,
    language: str | None,
    send_at: datetime | None,
    now: datetime,
    price_eur: float,
    threshold: int,
) -> tuple[Broadcast, Preview]:
    """A draft and its preview; nothing is queued before `confirm_broadcast`."""
    seen = preview(
        session,
        staff=staff,
        segment=segment,
        message=message,
        language=language,
        now=now,
        price_eur=price_eur,
        threshold=threshold,
    )
    draft = Broadcast(
        segment=seen.segment,
        message=seen.telegram_text,
        language=language,
        send_at=send_at,
        created_by=staff.id,
        recipients=seen.recipients,
        created_at=now,
    )
    session.add(draft)
    session.flush()
    _audit(session, staff, "broadcast.create", draft, now, f"{seen.recipients} recipients")
    return draft, seen


def confirm_broadcast(
    session: Session, *, staff: StaffIdentity, broadcast_id: int, now: datetime, threshold: int
) -> Broadcast:
    """Queue the draft, or hold it for approval when it reaches many people."""
    draft = _visible(session, staff, broadcast_id)
    people = recipients(
        session, segment=parse_segment(draft.segment), language=draft.language, now=now
    )
    if len(people) > threshold:
        _move(session, draft, "draft", status="pending_approval", recipients=len(people))
        _audit(session, staff, "broadcast.confirm", draft, now, "waits for a second approval")
        return draft
    _queue(session, draft, "draft", people, now)
    _audit(session, staff, "broadcast.confirm", draft, now, f"{len(people)} queued")
    return draft


def approve_broadcast(
    session: Session, *, staff: StaffIdentity, broadcast_id: int, now: datetime
) -> Broadcast:
    """A second staff member (not the author) lets a large broadcast go."""
    draft = _visible(session, staff, broadcast_id)
    if actor_key(staff) == _author_key(draft):
        raise StaffRefused(
            "forbidden", "a broadcast must be approved by someone else than its author"
        )
    people = recipients(
        session, segment=parse_segment(draft.segment), language=draft.language, now=now
    )
    _queue(session, draft, "pending_approval", people, now, approved_by=staff.id)
    _audit(session, staff, "broadcast.approve", draft, now, f"{len(people)} queued")
    return draft


def actor_key(staff: StaffIdentity) -> str:
    # The bootstrap token and the CLI carry no staff id: both are "no person on record", so
    # neither may approve the other's broadcast; a named staff member must.
    return f"staff:{staff.id}" if staff.id is not None else "no-record"


def _author_key(draft: Broadcast) -> str:
    return f"staff:{draft.created_by}" if draft.created_by is not None else "no-record"


def _queue(
    session: Session,
    draft: Broadcast,
    expected: str,
    people: list[tuple[int, str, str]],
    now: datetime,
    **values: Any,
) -> None:
    _move(session, draft, expected, status="queued", recipients=len(people), **values)
    sms = to_gsm7(draft.message)
    texts = {"sms": (sms, sms_segments(sms)), "telegram": (draft.message, 1)}
    enqueue_many(
        session,
        (
            {
                "channel": channel,
                "address": address,
                "body": texts[channel][0],
                "segments": texts[channel][1],
                "beneficiary_id": person,
                "dedupe_key": f"broadcast:{draft.id}:{person}",
                "send_after": draft.send_at,
                "broadcast_id": draft.id,
            }
            for person, channel, address in people
        ),
        now=now,
    )


def _move(session: Session, draft: Broadcast, expected: str, **values: Any) -> None:
    """Change state only from `expected`: two clicks on "confirm" queue it once."""
    moved = session.execute(
        update(Broadcast)
        .where(Broadcast.id == draft.id, Broadcast.status == expected)
        .values(**values)
    )
    if moved.rowcount != 1:
        raise StaffRefused("conflict", f"broadcast {draft.id} is {draft.status}, not {expected}")
    session.refresh(draft)


def cancel_broadcast(
    session: Session, *, staff: StaffIdentity, broadcast_id: int, now: datetime
) -> int:
    """Stop a broadcast; its outbox rows not yet sent are cancelled. Returns how many."""
    draft = _visible(session, staff, broadcast_id)
    if draft.status not in LIVE_STATES:
        raise StaffRefused("conflict", f"broadcast {draft.id} is already {draft.status}")
    _move(session, draft, draft.status, status="cancelled")
    stopped = session.execute(
        update(Msg)
        .where(Msg.broadcast_id == draft.id, Msg.status == S.QUEUED.value)
        .values(status=S.CANCELLED.value, error="broadcast cancelled", updated_at=now)
    ).rowcount
    _audit(session, staff, "broadcast.cancel", draft, now, f"{stopped} messages cancelled")
    return int(stopped)


def broadcast_report(session: Session, *, staff: StaffIdentity, broadcast_id: int) -> Report:
    """The broadcast and its delivery counts (queued, sending, sent, delivered, failed…)."""
    draft = _visible(session, staff, broadcast_id)
    counts: dict[str, int] = dict(
        session.execute(
            select(Msg.status, func.count())
            .where(Msg.broadcast_id == draft.id)
            .group_by(Msg.status)
        ).all()
    )
    return Report(
        draft.id or 0,
        draft.segment,
        draft.message,
        draft.language,
        draft.status,
        draft.send_at,
        draft.created_by,
        draft.approved_by,
        draft.recipients,
        {str(k): int(v) for k, v in counts.items()},
    )


def list_broadcasts(session: Session, *, staff: StaffIdentity, limit: int = 50) -> list[Broadcast]:
    """The latest broadcasts this staff member may see."""
    rows = session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit * 4))
    return [row for row in rows if _may_see(session, staff, row)][:limit]


def _may_see(session: Session, staff: StaffIdentity, draft: Broadcast) -> bool:
    if staff.is_admin or (staff.id is not None and draft.created_by == staff.id):
        return True
    try:
        place_id = segment_place(session, parse_segment(draft.segment))
    except StaffRefused:
        return False
    return place_id is not None and staff.can_see_place(place_id)


def _visible(session: Session, staff: StaffIdentity, broadcast_id: int) -> Broadcast:
    draft = session.get(Broadcast, broadcast_id)
    if draft is None:
        raise StaffRefused("not_found", f"no broadcast {broadcast_id}")
    if not _may_see(session, staff, draft):
        raise StaffRefused("forbidden", f"broadcast {broadcast_id} is not to one of your places")
    return draft


def _audit(
    session: Session,
    staff: StaffIdentity,
    action: str,
    draft: Broadcast,
    now: datetime,
    detail: str,
) -> None:
    audit(
        session,
        actor=actor_of(staff),
        action=action,
        record=f"broadcast:{draft.id}",
        detail=f"{draft.segment}: {detail}",
        now=now,
    )
