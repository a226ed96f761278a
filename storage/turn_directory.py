"""The flows' Directory for one conversation turn: the common lookups (balance, bookings) on
the conversation store's prepared statements, the rest through the ORM (DatabaseDirectory)
on the same transaction, opened only when the turn asks for one of them."""

from __future__ import annotations

from datetime import datetime

from flows.types import (
    Balance,
    BeneficiaryView,
    BookingView,
    HelpContact,
    PlacePoint,
    SlotView,
    TopicView,
)
from storage.conversation_store import ConversationStore
from storage.directory import DatabaseDirectory
from storage.geo import PlaceResolver
from storage.reminder_texts import NoticeWriter

__all__ = ["TurnDirectory"]


class TurnDirectory:
    """Implements flows.types.Directory over a ConversationStore, at one instant."""

    def __init__(
        self,
        store: ConversationStore,
        *,
        resolver: PlaceResolver,
        now: datetime,
        notices: NoticeWriter,
    ) -> None:
        self.store = store
        self.resolver = resolver
        self.now = now
        self.notices = notices
        self._orm: DatabaseDirectory | None = None

    @property
    def orm(self) -> DatabaseDirectory:
        if self._orm is None:
            self._orm = DatabaseDirectory(
                self.store.session(), resolver=self.resolver, now=self.now, notices=self.notices
            )
        return self._orm

    def balance(self, beneficiary_id: int) -> Balance:
        return self.store.balance(beneficiary_id=beneficiary_id, now=self.now)

    def bookings(self, beneficiary_id: int) -> list[BookingView]:
        return self.store.bookings(beneficiary_id=beneficiary_id, now=self.now)

    def resolve_place(self, text: str) -> list[PlacePoint]:
        return self.resolver.resolve(text)

    def nearest_slots(
        self, latitude: float, longitude: float, topic: str | None, offset: int, limit: int
    ) -> list[SlotView]:
        return self.orm.nearest_slots(latitude, longitude, topic, offset, limit)

    def slot(self, slot_id: int) -> SlotView | None:
        return self.orm.slot(slot_id)

    def topics(self) -> list[TopicView]:
        return self.orm.topics()

    def find_booklet(self, number: str, code: str) -> BeneficiaryView | None:
        return self.orm.find_booklet(number, code)

    def beneficiary_by_phone(self, phone: str) -> BeneficiaryView | None:
        return self.orm.beneficiary_by_phone(phone)

    def beneficiary_by_link_token(self, token: str) -> BeneficiaryView | None:
        return self.orm.beneficiary_by_link_token(token)

    def help_contact(self, beneficiary_id: int | None) -> HelpContact:
        return self.orm.help_contact(beneficiary_id)
