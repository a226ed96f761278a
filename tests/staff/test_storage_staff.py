"""Staff storage functions on SQLite and PostgreSQL: help answers, staff links. (People:
tests/staff/test_people_handlers.py.)
(Slots and attendance: tests/staff/test_slots_handlers.py; broadcasts and statistics:
tests/staff/test_broadcasts_handlers.py — both through their handlers.)"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.beneficiaries_admin import (
    answer_help_request,
)
from storage.db import unit_of_work
from storage.models import HelpRequest, OutboundMessage
from storage.staff import CLI_ADMIN, StaffRefused, link_staff_chat
from storage.staff import issue_staff_link as staff_link
from tests import factories
from tests.staff.helpers import NOW, new_staff

PARIS = ZoneInfo("Europe/Paris")


def _count(session, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(OutboundMessage).where(*where)) or 0


def test_answering_a_help_request_queues_it_on_their_channel(engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session, phone="+33611111113")
        request = HelpRequest(
            beneficiary_id=person.id,
            channel="sms",
            address="+33611111113",
            text="Je ne trouve plus mon chéquier",
            created_at=NOW,
        )
        session.add(request)
        session.flush()
        answer_help_request(
            session,
            staff=CLI_ADMIN,
            request_id=request.id or 0,
            text="Passez à l’accueil mardi, on s’en occupe.",
            now=NOW,
        )
        body = session.scalar(select(OutboundMessage.body))
        assert body == "Passez à l'accueil mardi, on s'en occupe." and request.answered_at
        with pytest.raises(StaffRefused, match="already answered"):
            answer_help_request(
                session, staff=CLI_ADMIN, request_id=request.id or 0, text="Encore", now=NOW
            )


def test_staff_telegram_link_is_one_time(engine) -> None:  # type: ignore[no-untyped-def]
    staff_id, _ = new_staff(engine, "Nadia")
    with unit_of_work(engine) as session:
        token = staff_link(session, staff_id=staff_id, by=CLI_ADMIN, now=NOW)
        first = link_staff_chat(session, token=token, chat_id=42, now=NOW)
        again = link_staff_chat(session, token=token, chat_id=43, now=NOW)
        late = staff_link(session, staff_id=staff_id, by=CLI_ADMIN, now=NOW)
        expired = link_staff_chat(session, token=late, chat_id=44, now=NOW + timedelta(days=8))
    assert first is not None and first.id == staff_id and again is None and expired is None
