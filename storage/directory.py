"""The flows' read-only lookups (flows.types.Directory), answered from the database."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from config.reference import communes
from flows.types import (
    Balance,
    BeneficiaryView,
    BookingView,
    HelpContact,
    PlacePoint,
    SlotView,
    TopicView,
)
from storage.booklet_guard import check_booklet_code, code_opens
from storage.geo import PlaceResolver
from storage.models import (
    Beneficiary,
    Booking,
    BookingStatus,
    Booklet,
    Place,
    Slot,
    Topic,
    Voucher,
    VoucherStatus,
)
from storage.search import nearest_slots, slot_view

__all__ = [
    "DEFAULT_HELP",
    "DatabaseDirectory",
    "beneficiary_view",
    "booklet_holder",
    "booklet_numbered",
    "commune_name",
    "link_token_hash",
    "voucher_balance",
]

DEFAULT_HELP = HelpContact(phone="04 76 59 59 59", hours="lun.-ven. 9h-17h")


def _compact_text(text: str) -> str:
    """'pn 0001', 'PN-0001' and 'PN0001' are the same booklet number."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _compact(column: Any) -> Any:
    return func.replace(func.replace(func.upper(column), "-", ""), " ", "")


def booklet_numbered(session: Session, number: str) -> Booklet | None:
    """The booklet with this number, however it is spaced or dashed ('pn 0001' = 'PN-0001')."""
    return session.scalar(
        select(Booklet).where(_compact(Booklet.number) == _compact_text(number)).limit(1)
    )


def booklets_keyed(session: Session, digits: str) -> list[Booklet]:
    """The booklets whose number has exactly these digits ('0001' keyed on a phone is
    PN-0001): a phone keypad has no letters. A few at most; the code then tells them apart."""
    if not digits.isdigit():
        return []
    rows = session.scalars(
        select(Booklet).where(_compact(Booklet.number).like(f"%{digits}")).limit(20)
    )
    return [b for b in rows if "".join(ch for ch in b.number if ch.isdigit()) == digits]


def booklet_holder(session: Session, number: str, code: str) -> Beneficiary | None:
    """The holder of that booklet when the verification code matches (and they are not
    erased), else None: a wrong number and a wrong code look the same. Digits alone (keyed
    on a call) match the booklet with those digits and that code."""
    exact = booklet_numbered(session, number)
    candidates = [exact] if exact is not None else booklets_keyed(session, number)
    matching = [b for b in candidates if code_opens(b, code)]
    if len(matching) != 1:
        return None
    booklet = matching[0]
    holder = session.get(Beneficiary, booklet.beneficiary_id)
    return holder if holder is not None and holder.erased_at is None else None


def link_token_hash(token: str) -> str:
    """Deep-link tokens are kept hashed: a copy of the database links no chat."""
    return hashlib.sha256(token.encode()).hexdigest()


@cache
def _commune_names() -> dict[str, str]:
    return {commune.insee: commune.name for commune in communes()}


def commune_name(insee: str | None) -> str | None:
    """The commune's name for its INSEE code (the reference list), None when unknown."""
    return _commune_names().get(insee or "")


def beneficiary_view(row: Beneficiary) -> BeneficiaryView:
    return BeneficiaryView(
        id=row.id or 0,
        first_name=row.first_name,
        language=row.language,
        reminders_enabled=row.reminders_enabled,
        opted_out=row.opted_out,
        commune=commune_name(row.commune_insee),
    )


def voucher_balance(session: Session, *, beneficiary_id: int, today: date) -> Balance:
    """The person's vouchers: how many are available (not expired by `today`) or reserved."""
    rows = session.execute(
        select(
            Voucher.status,
            func.count(),
            func.min(Voucher.expires_on),
            func.max(Voucher.value_cents),
        )
        .join(Booklet, Booklet.id == Voucher.booklet_id)  # type: ignore[arg-type]
        .where(Booklet.beneficiary_id == beneficiary_id)
        .where(
            (Voucher.status != VoucherStatus.AVAILABLE.value) | (Voucher.expires_on >= today)  # type: ignore[operator]
        )
        .group_by(Voucher.status)
    ).all()
    counts = {status: (count, expiry, value) for status, count, expiry, value in rows}
    available = counts.get(VoucherStatus.AVAILABLE.value, (0, None, 1000))
    reserved = counts.get(VoucherStatus.RESERVED.value, (0, None, 1000))
    return Balance(
        available=available[0],
        value_cents=available[2] or reserved[2] or 1000,
        next_expiry=available[1],
        reserved=reserved[0],
    )


class DatabaseDirectory:
    """Implements flows.types.Directory over one session, at one instant."""

    def __init__(
        self,
        session: Session,
        *,
        resolver: PlaceResolver,
        now: datetime,
        help_contact: HelpContact = DEFAULT_HELP,
    ) -> None:
        self.session = session
        self.resolver = resolver
        self.now = now
        self.default_help = help_contact

    def balance(self, beneficiary_id: int) -> Balance:
        return voucher_balance(self.session, beneficiary_id=beneficiary_id, today=self.now.date())

    def resolve_place(self, text: str) -> list[PlacePoint]:
        return self.resolver.resolve(text)

    def nearest_slots(
        self, latitude: float, longitude: float, topic: str | None, offset: int, limit: int
    ) -> list[SlotView]:
        return nearest_slots(
            self.session,
            latitude=latitude,
            longitude=longitude,
            now=self.now,
            topic=topic,
            offset=offset,
            limit=limit,
        )

    def slot(self, slot_id: int) -> SlotView | None:
        row = self.session.execute(
            select(Slot, Place).join(Place, Place.id == Slot.place_id).where(Slot.id == slot_id)  # type: ignore[arg-type]
        ).first()
        return slot_view(row[0], row[1]) if row else None

    def bookings(self, beneficiary_id: int) -> list[BookingView]:
        rows = self.session.execute(
            select(Booking, Slot, Place)
            .join(Slot, Slot.id == Booking.slot_id)  # type: ignore[arg-type]
            .join(Place, Place.id == Slot.place_id)  # type: ignore[arg-type]
            .where(
                Booking.beneficiary_id == beneficiary_id,
                Booking.status == BookingStatus.BOOKED.value,
                Slot.starts_at > self.now,
            )
            .order_by(Slot.starts_at)  # type: ignore[arg-type]
        ).all()
        return [BookingView(id=b.id or 0, slot=slot_view(s, p)) for b, s, p in rows]

    def topics(self) -> list[TopicView]:
        rows = self.session.scalars(select(Topic).order_by(Topic.key)).all()
        return [TopicView(key=t.key, labels={"fr": t.label_fr, "en": t.label_en}) for t in rows]

    def find_booklet(self, number: str, code: str) -> BeneficiaryView | None:
        """The holder when the code opens the booklet; a wrong code counts against the booklet
        and a locked booklet refuses every code (storage.booklet_guard). Digits alone (keyed on
        a call) stand for the booklet with those digits whose code matches, as in
        `booklet_holder`; a wrong code then counts against every booklet with those digits."""
        exact = booklet_numbered(self.session, number)
        candidates = [exact] if exact is not None else booklets_keyed(self.session, number)
        matching = [b for b in candidates if code_opens(b, code)]
        tried = matching if len(matching) == 1 else candidates if not matching else []
        opened = [
            booklet
            for booklet in tried
            if check_booklet_code(self.session, booklet=booklet, code=code, now=self.now)
        ]
        if len(opened) != 1:
            return None
        holder = self.session.get(Beneficiary, opened[0].beneficiary_id)
        if holder is None or holder.erased_at is not None:
            return None
        return beneficiary_view(holder)

    def beneficiary_by_phone(self, phone: str) -> BeneficiaryView | None:
        row = self.session.scalar(select(Beneficiary).where(Beneficiary.phone == phone))
        return beneficiary_view(row) if row is not None else None

    def beneficiary_by_link_token(self, token: str) -> BeneficiaryView | None:
        """The person a deep link was issued for, while it is unused, unreplaced and unexpired."""
        if not token:
            return None
        row = self.session.scalar(
            select(Beneficiary).where(
                Beneficiary.telegram_link_token == link_token_hash(token),
                Beneficiary.telegram_link_expires_at > self.now,  # type: ignore[operator]
                Beneficiary.erased_at.is_(None),  # type: ignore[union-attr]
            )
        )
        return beneficiary_view(row) if row is not None else None

    def help_contact(self, beneficiary_id: int | None) -> HelpContact:
        """The place of their next booking, else a place in their commune, else the default."""
        place = None
        if beneficiary_id is not None:
            upcoming = self.bookings(beneficiary_id)
            if upcoming and upcoming[0].slot.place_phone:
                return HelpContact(upcoming[0].slot.place_phone, self.default_help.hours)
            holder = self.session.get(Beneficiary, beneficiary_id)
            if holder is not None and holder.commune_insee:
                place = self.session.scalar(
                    select(Place)
                    .where(Place.insee == holder.commune_insee, Place.phone.is_not(None))
                    .limit(1)  # type: ignore[union-attr]
                )
        if place is not None and place.phone:
            return HelpContact(place.phone, self.default_help.hours)
        return self.default_help
