"""A verification code is read as people type it: any case, spaces inside (the flows lower-case
what they read), never a different code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.booklet_guard import code_opens
from storage.models import Booklet

BOOKLET = Booklet(
    number="PN-ZQ4719",
    verification_code="QX7Z3K",
    beneficiary_id=1,
    issued_at=datetime(2026, 1, 1, tzinfo=UTC),
)


@pytest.mark.parametrize("typed", ["QX7Z3K", "qx7z3k", " qx7z 3k ", "Qx7Z3k"])
def test_the_code_opens_whatever_the_case_and_spaces(typed: str) -> None:
    assert code_opens(BOOKLET, typed)


@pytest.mark.parametrize("typed", ["QX7Z3", "QX7Z3KK", "0X7Z3K", ""])
def test_another_code_does_not(typed: str) -> None:
    assert not code_opens(BOOKLET, typed)
