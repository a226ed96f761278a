"""Topic rows, kept in step with the reference list of config.reference."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from config.reference import topics
from storage.imports.running import apply_changes
from storage.models import Topic

__all__ = ["ensure_topics"]


def ensure_topics(session: Session) -> int:
    """Create or refresh the Topic rows from config.reference; returns how many were written."""
    existing = {topic.key: topic for topic in session.exec(select(Topic)).all()}  # type: ignore[attr-defined]
    written = 0
    for info in topics():
        values: dict[str, Any] = {
            "label_fr": info.label_fr,
            "label_en": info.label_en,
            "inclusion_theme": info.inclusion_theme,
        }
        topic = existing.get(info.key)
        if topic is None:
            session.add(Topic(key=info.key, **values))
            written += 1
        elif apply_changes(topic, values):
            written += 1
    session.flush()
    return written
