"""One-off notices (not planned reminders) written with the outbound rules of flows/outbound:
the channel a person is reached on, the catalog text of a notice in their language.

Storage code that queues a notice inside its own transaction — a slot moved or cancelled, a
booklet locked or moved, a phone number changed — is handed a `NoticeWriter` (the protocol in
`storage.reminder_texts`) built here from the settings, so storage itself holds no rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from bot.outbox.reminder_planning import shared_renderer
from config import Settings
from config.catalogs import load_catalogs
from flows.outbound.channel import choose_address
from flows.outbound.reminders import message_at
from flows.outbound.texts import Catalogs, Render, catalog_key, has_text
from flows.types import MessageToQueue, Recipient

__all__ = ["NoticeComposer", "notice_composer"]


@dataclass(frozen=True)
class NoticeComposer:
    """Implements storage.reminder_texts.NoticeWriter with the catalogs and the channel rule."""

    render: Render
    catalogs: Catalogs
    two_way: bool

    def _key(self, key: str, channel: str) -> str:
        """The `_one_way` SMS variant when people cannot reply and the catalogs have one."""
        wanted = catalog_key(key, channel, two_way=self.two_way)
        return wanted if has_text(self.catalogs, "fr", wanted) else key

    def channel_of(self, person: Recipient) -> tuple[str, str] | None:
        return choose_address(person)

    def to_person(
        self,
        person: Recipient,
        *,
        key: str,
        params: Mapping[str, Any],
        dedupe_key: str,
        send_at: datetime,
        not_after: datetime | None,
    ) -> MessageToQueue | None:
        target = choose_address(person)
        if target is None:
            return None
        return self.to_address(
            channel=target[0],
            address=target[1],
            language=person.language,
            key=key,
            params=params,
            beneficiary_id=person.id,
            dedupe_key=dedupe_key,
            send_at=send_at,
            not_after=not_after,
        )

    def to_address(
        self,
        *,
        channel: str,
        address: str,
        language: str,
        key: str,
        params: Mapping[str, Any],
        beneficiary_id: int | None,
        dedupe_key: str,
        send_at: datetime,
        not_after: datetime | None = None,
    ) -> MessageToQueue | None:
        return message_at(
            channel=channel,
            address=address,
            language=language,
            key=self._key(key, channel),
            params=params,
            beneficiary_id=beneficiary_id,
            dedupe_key=dedupe_key,
            send_at=send_at,
            not_after=not_after,
            render=self.render,
        )


@lru_cache(maxsize=1)
def _catalogs() -> Catalogs:
    return load_catalogs()


def notice_composer(settings: Settings) -> NoticeComposer:
    """The notices of this deployment: texts in its time zone, one-way SMS wording if so."""
    return NoticeComposer(
        render=shared_renderer(settings.tz),
        catalogs=_catalogs(),
        two_way=settings.sms_two_way,
    )
