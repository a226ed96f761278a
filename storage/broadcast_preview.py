"""Broadcast preview: recipients by channel, the SMS as it will go out, its cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from flows.gsm7 import sms_segments, to_gsm7
from storage.broadcast_approval import needs_approval
from storage.broadcast_segments import check_segment, parse_segment, recipients
from storage.staff import StaffIdentity, StaffRefused

__all__ = ["Preview", "preview"]


@dataclass(frozen=True)
class Preview:
    """What a broadcast would do. `{"segment": "unused", "language": null, "recipients": 120,
    "by_channel": {"sms": 100, "telegram": 20}, "sms_text": "Atelier gratuit...",
    "sms_segments": 1, "telegram_text": "Atelier gratuit…", "estimated_cost_eur": 7.0,
    "needs_approval": false, "reach_24h": 120}`. `reach_24h` is what the approval threshold is
    compared with: these recipients joined with the overlapping broadcasts of the last 24 h."""

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
    held, reach = needs_approval(session, people=people, threshold=threshold, now=now)
    return Preview(
        str(parsed),
        language,
        len(people),
        by_channel,
        sms,
        parts,
        message.strip(),
        round(by_channel["sms"] * parts * price_eur, 2),
        held,
        reach,
    )
