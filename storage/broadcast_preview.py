"""Broadcast preview: recipients by channel, the SMS as it will go out, its cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from flows.gsm7 import sms_segments, to_gsm7
from storage.broadcast_segments import check_segment, parse_segment, recipients
from storage.staff import StaffIdentity, StaffRefused

__all__ = ["Preview", "preview"]


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
