"""Set-based reminder planning queues exactly the rows the per-row planner queued (same keys,
texts, channels, addresses and times), on both databases."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.outbox.planning_golden import GOLDEN, planned_rows, seed


def test_planning_matches_the_recorded_rows(engine: Engine) -> None:
    seed(engine)
    expected = [json.loads(line) for line in GOLDEN.read_text().splitlines()]
    got = planned_rows(engine)
    assert len(got) == len(expected)
    for ours, theirs in zip(got, expected, strict=True):
        assert ours == theirs


def test_planned_times_are_stored_as_every_other_write_stores_them(engine: Engine) -> None:
    """SQLite compares times as text: the set-based rows must use the column type's format."""
    seed(engine)
    planned_rows(engine)
    with engine.connect() as conn:
        kinds = conn.execute(
            text(
                "SELECT DISTINCT substr(dedupe_key, 1, 3), length(CAST(next_attempt_at AS TEXT)),"
                " length(CAST(created_at AS TEXT)) FROM outboundmessage"
            )
        ).all()
    assert {kind for kind, _, _ in kinds} >= {"j1:", "h2:", "exp", "nos"}
    assert len({(sent, created) for _, sent, created in kinds}) == 1, kinds
