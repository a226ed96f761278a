"""Set-based reminder planning queues exactly the rows the per-row planner queued (same keys,
texts, channels, addresses and times), on both databases."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine

from tests.outbox.planning_golden import GOLDEN, planned_rows, seed


def test_planning_matches_the_recorded_rows(engine: Engine) -> None:
    seed(engine)
    expected = [json.loads(line) for line in GOLDEN.read_text().splitlines()]
    got = planned_rows(engine)
    assert len(got) == len(expected)
    for ours, theirs in zip(got, expected, strict=True):
        assert ours == theirs
