"""The help inbox's writes and lookups: where an answer goes, and marking a request answered.
Who may answer which request, the text as sent and the audit are the staff handlers'
(`bot.staff.help`); the lists are `storage.staff.open_help_requests` and
`storage.console_queries.answered_help_requests`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.models import Beneficiary, HelpRequest
from storage.reminder_texts import PERSON_COLUMNS, Person, choose_address

__all__ = ["mark_answered", "person_reply_address"]


def person_reply_address(session: Session, *, beneficiary_id: int) -> tuple[str, str] | None:
    """(channel, address) the person is written to, or None (opted out, no address left)."""
    row = session.execute(
        select(*PERSON_COLUMNS, Beneficiary.opted_out).where(Beneficiary.id == beneficiary_id)
    ).one()
    if row[-1]:
        return None
    return choose_address(Person(*row[:-1]))


def mark_answered(
    session: Session, request: HelpRequest, *, answer: str, by: int | None, now: datetime
) -> None:
    request.answer, request.answered_by, request.answered_at = answer, by, now
    session.flush()
