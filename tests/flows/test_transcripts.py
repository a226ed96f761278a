"""Every transcript in transcripts/ replays exactly. PASSNUM_UPDATE_TRANSCRIPTS=1 rewrites
them after a deliberate wording change (read the diff before committing it)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from tests.flows.transcript import replay

FOLDER = Path(__file__).parent / "transcripts"
FILES = sorted(FOLDER.glob("*.txt"))


def test_there_are_transcripts() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(path: Path) -> None:
    expected, actual = replay(path)
    if os.environ.get("PASSNUM_UPDATE_TRANSCRIPTS") == "1":
        path.write_text("\n".join(actual) + "\n", encoding="utf-8")
        return
    if expected != actual:
        diff = "\n".join(difflib.unified_diff(expected, actual, "expected", "actual", lineterm=""))
        pytest.fail(f"{path.name} differs:\n{diff}")
