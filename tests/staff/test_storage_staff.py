"""Staff storage functions on SQLite and PostgreSQL: staff links. (Through their handlers:
people in tests/staff/test_people_handlers.py; slots and attendance in
tests/staff/test_slots_handlers.py; broadcasts, statistics and help answers in
tests/staff/test_broadcasts_handlers.py.)"""

from __future__ import annotations

from datetime import timedelta

from storage.db import unit_of_work
from storage.staff import CLI_ADMIN, link_staff_chat
from storage.staff import issue_staff_link as staff_link
from tests.staff.helpers import NOW, new_staff


def test_staff_telegram_link_is_one_time(engine) -> None:  # type: ignore[no-untyped-def]
    staff_id, _ = new_staff(engine, "Nadia")
    with unit_of_work(engine) as session:
        token = staff_link(session, staff_id=staff_id, by=CLI_ADMIN, now=NOW)
        first = link_staff_chat(session, token=token, chat_id=42, now=NOW)
        again = link_staff_chat(session, token=token, chat_id=43, now=NOW)
        late = staff_link(session, staff_id=staff_id, by=CLI_ADMIN, now=NOW)
        expired = link_staff_chat(session, token=late, chat_id=44, now=NOW + timedelta(days=8))
    assert first is not None and first.id == staff_id and again is None and expired is None
