"""The voice line end to end: signed Twilio Voice webhooks against the real app on loopback;
call transcripts in tests/e2e/calls (PASSNUM_UPDATE_TRANSCRIPTS=1 rewrites them after a
deliberate wording change: read the diff)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.voice_calls import VoiceApp, replay_call, voice_app

CALLS = sorted((Path(__file__).parent / "calls").glob("*.txt"))
SECONDS_PER_WORD = 60 / 150  # speech at 150 words a minute
MAX_PROMPT_SECONDS = 25


@pytest.fixture
def phone(database_url: str) -> Iterator[VoiceApp]:
    with voice_app(database_url) as app:
        yield app


@pytest.mark.parametrize("path", CALLS, ids=[p.stem for p in CALLS])
def test_call_transcript(phone: VoiceApp, path: Path) -> None:
    expected, actual, answers = replay_call(phone, path)
    if os.environ.get("PASSNUM_UPDATE_TRANSCRIPTS") == "1":
        path.write_text("\n".join(actual) + "\n", encoding="utf-8")
    elif expected != actual:
        diff = "\n".join(difflib.unified_diff(expected, actual, "expected", "actual", lineterm=""))
        pytest.fail(f"{path.name} differs:\n{diff}")
    for heard in answers:
        seconds = heard.words * SECONDS_PER_WORD
        assert seconds < MAX_PROMPT_SECONDS, (path.name, seconds, heard.said)
