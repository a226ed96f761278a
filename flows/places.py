"""Which place a message names: the runs of words the interpreter kept, tried against the
directory longest first; "près de chez moi" is the person's own commune."""

from __future__ import annotations

from flows.interpret import Heard
from flows.states import Turn
from flows.types import PlacePoint

__all__ = ["MAX_LOOKUPS", "named_places"]

MAX_LOOKUPS = 8  # resolver calls per message, whatever its length


def _spans(run: tuple[str, ...]) -> list[str]:
    """The run, then shorter runs inside it, longest first ("pont de claix svp" → …)."""
    found = []
    for size in range(len(run), 0, -1):
        for start in range(len(run) - size + 1):
            text = " ".join(run[start : start + size])
            if len(text) >= 3:
                found.append(text)
    return found


def named_places(turn: Turn, heard: Heard | None = None) -> list[PlacePoint] | None:
    """The points the message names; [] when it names a place we do not know ("à Lyon",
    "paris" alone); None when it names no place, or when only unknown words were there
    ("je voudrais envoyer des mails": "envoyer" is not a commune)."""
    heard = heard or turn.heard
    if heard.near_me and turn.ctx.beneficiary and turn.ctx.beneficiary.commune:
        return turn.ctx.directory.resolve_place(turn.ctx.beneficiary.commune)
    if not heard.place_words:
        return None
    lookups = 0
    whole = [heard.norm] if heard.intent is None and not (heard.topic or heard.when) else []
    for run in [tuple(whole), *heard.place_words]:
        for text in _spans(run) if run != tuple(whole) else whole:
            if lookups >= MAX_LOOKUPS:
                return [] if heard.place_said or whole else None
            lookups += 1
            points = turn.ctx.directory.resolve_place(text)
            if points:
                return points
    return [] if heard.place_said or whole else None
