"""The channel rule exists twice: flows.outbound.channel.choose_address (Python) and
storage.reminder_texts.chosen_channel_sql (SQL, for set-based planning and broadcasts). Every
combination of addresses and choices gets the same answer from both, on both databases."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from flows.outbound.channel import choose_address
from flows.types import Recipient
from storage.db import unit_of_work
from storage.models import Beneficiary
from storage.reminder_texts import PERSON_COLUMNS, chosen_address_sql, chosen_channel_sql

CHOICES = (None, "sms", "telegram", "voice")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_sql_and_python_choose_the_same_channel_and_address(engine: Engine) -> None:
    combos = list(
        itertools.product(("+3361234", None), (42, None), CHOICES, CHOICES[:3], (False, True))
    )
    with unit_of_work(engine) as session:
        for n, (phone, chat, preferred, last, unreachable) in enumerate(combos):
            session.add(
                Beneficiary(
                    first_name=f"P{n}",
                    phone=f"{phone}{n:04d}" if phone else phone,
                    telegram_chat_id=None if chat is None else chat + n,
                    preferred_channel=preferred,
                    last_channel=last,
                    telegram_unreachable=unreachable,
                    created_at=NOW,
                )
            )
        session.commit()
        for voice in (False, True):
            channel = chosen_channel_sql(voice=voice)
            rows = session.execute(
                select(*PERSON_COLUMNS, channel, chosen_address_sql(channel)).order_by(
                    Beneficiary.id
                )
            ).all()
            assert len(rows) == len(combos)
            for row in rows:
                expected = choose_address(Recipient(*row[:8]), voice=voice)
                got = None if row[8] is None else (row[8], row[9])
                assert got == expected, (row, voice)
