"""The help inbox's writes and lookups: whom an answer goes to, and marking a request answered.
Who may answer which request, the text as sent and the audit are the staff handlers'
(`bot.staff.help`); the lists are `storage.staff.open_help_requests` and
`storage.console_queries.answered_help_requests`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from flows.types import Recipient
from storage.models import Beneficiary, HelpRequest
from storage.reminder_texts import PERSON_COLUMNS, Person

__all__ = ["mark_answered", "reachable_person"]


def reachable_person(session: Session, *, beneficiary_id: int) -> Recipient | None:
    """The person as a message recipient, or None when they opted out."""
    row = session.execute(
        select(*PERSON_COLUMNS, Beneficiary.opted_out).where(Beneficiary.id == beneficiary_id)
    ).one()
    if row[-1]:
        return None
    return Person(*row[:-1])


def mark_answered(
    session: Session, request: HelpRequest, *, answer: str, by: int | None, now: datetime
) -> None:
    request.answer, request.answered_by, request.answered_at = answer, by, now
    session.flush()
