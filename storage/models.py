"""The tables. Only this module defines table models; everything is timezone-aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

__all__ = [
    "AddressHistory",
    "AddressOptOut",
    "AuditEntry",
    "Beneficiary",
    "Booking",
    "BookingStatus",
    "Booklet",
    "Broadcast",
    "ConsoleSession",
    "Conversation",
    "HelpRequest",
    "InboundCount",
    "InboundMessage",
    "OutboundMessage",
    "OutboundSpend",
    "OutboundStatus",
    "Place",
    "Slot",
    "Staff",
    "TelegramUpdate",
    "TelegramUpdateStatus",
    "Topic",
    "Voucher",
    "VoucherStatus",
]


def _at(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


class VoucherStatus(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    REDEEMED = "redeemed"
    EXPIRED = "expired"


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class OutboundStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TelegramUpdateStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class Beneficiary(SQLModel, table=True):
    """A resident holding a booklet; reachable by SMS (phone) and/or Telegram (chat id)."""

    id: int | None = Field(default=None, primary_key=True)
    first_name: str
    phone: str | None = Field(default=None, unique=True, index=True, max_length=20)
    telegram_chat_id: int | None = Field(default=None, unique=True, index=True)
    language: str = Field(default="fr", max_length=8)
    commune_insee: str | None = Field(default=None, max_length=5, index=True)
    reminders_enabled: bool = True
    opted_out: bool = False
    telegram_unreachable: bool = False
    preferred_channel: str | None = Field(default=None, max_length=16)
    last_channel: str | None = Field(default=None, max_length=16)
    # SHA-256 of the current Telegram deep-link token: one use, until telegram_link_expires_at
    telegram_link_token: str | None = Field(default=None, unique=True, max_length=64)
    telegram_link_expires_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))
    # the staff member who registered the person: advisors may act on them (storage.access)
    registered_by: int | None = Field(default=None, foreign_key="staff.id", index=True)
    created_at: datetime = Field(sa_column=_at())
    erased_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))


class Booklet(SQLModel, table=True):
    """A paper booklet of vouchers, numbered, with a verification code printed inside."""

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=32)
    verification_code: str = Field(max_length=16)
    beneficiary_id: int = Field(foreign_key="beneficiary.id", index=True)
    issued_at: datetime = Field(sa_column=_at())
    # Wrong codes typed for this booklet by anyone, since the last right one or unlock; at
    # the limit the booklet is locked (storage.booklet_guard) until staff unlock it.
    failed_codes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))


class Voucher(SQLModel, table=True):
    """One chèque: pays for one session."""

    __table_args__ = (Index("ix_voucher_booklet_status", "booklet_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=40)
    booklet_id: int = Field(foreign_key="booklet.id")
    value_cents: int = 1000
    expires_on: date
    status: str = Field(default=VoucherStatus.AVAILABLE.value, max_length=16)
    updated_at: datetime = Field(sa_column=_at())


class Place(SQLModel, table=True):
    """A digital-inclusion place (lieu de médiation numérique)."""

    __table_args__ = (Index("ix_place_lat_lon", "latitude", "longitude"),)

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(unique=True, index=True, max_length=128)
    name: str
    address: str
    postcode: str = Field(max_length=5)
    commune: str
    insee: str | None = Field(default=None, max_length=5, index=True)
    latitude: float
    longitude: float
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    opening_hours: str | None = None
    booking_info: str | None = None
    services: str | None = None


class Topic(SQLModel, table=True):
    """A training topic (SPEC section 5 keys)."""

    key: str = Field(primary_key=True, max_length=32)
    label_fr: str
    label_en: str
    inclusion_theme: str | None = None


class Slot(SQLModel, table=True):
    """A training session at a place; `booked` counts live bookings, kept below `capacity`."""

    __table_args__ = (
        Index("ix_slot_place_starts", "place_id", "starts_at"),
        Index("ix_slot_starts", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(unique=True, max_length=128)
    place_id: int = Field(foreign_key="place.id")
    topic: str = Field(foreign_key="topic.key", max_length=32)
    title: str | None = None
    language: str = Field(default="fr", max_length=8)
    starts_at: datetime = Field(sa_column=_at())
    ends_at: datetime = Field(sa_column=_at())
    capacity: int
    booked: int = 0
    cancelled: bool = False


class Booking(SQLModel, table=True):
    """A seat on a slot, paid by one reserved voucher."""

    __table_args__ = (Index("ix_booking_beneficiary_status", "beneficiary_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="slot.id", index=True)
    beneficiary_id: int = Field(foreign_key="beneficiary.id")
    voucher_id: int = Field(foreign_key="voucher.id")
    status: str = Field(default=BookingStatus.BOOKED.value, max_length=16)
    created_at: datetime = Field(sa_column=_at())
    updated_at: datetime = Field(sa_column=_at())


class Conversation(SQLModel, table=True):
    """Conversation state of one channel address, as the flow engine's JSON."""

    address: str = Field(primary_key=True, max_length=64)
    state: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    updated_at: datetime = Field(sa_column=_at())


class InboundMessage(SQLModel, table=True):
    """A message received; the provider id makes a retried webhook a no-op."""

    __table_args__ = (
        UniqueConstraint("channel", "provider_id"),
        # flood limits count one address's recent messages on every inbound message
        Index("ix_inbound_address_received", "address", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    provider_id: str = Field(max_length=64)
    address: str = Field(max_length=64, index=True)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reply: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = Field(sa_column=_at(index=True))


class OutboundMessage(SQLModel, table=True):
    """The outbox: every message that leaves outside a webhook answer is a row here first."""

    __table_args__ = (
        Index("ix_outbound_status_next", "status", "next_attempt_at"),
        # the dispatcher's claims read this index in order and stop at the batch size
        Index("ix_outbound_claim", "channel", "status", "next_attempt_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64)
    beneficiary_id: int | None = Field(default=None, foreign_key="beneficiary.id", index=True)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    segments: int = 1
    dedupe_key: str | None = Field(default=None, unique=True, max_length=128)
    status: str = Field(default=OutboundStatus.QUEUED.value, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_at())
    claimed_until: datetime | None = Field(default=None, sa_column=_at(nullable=True))
    # When the provider call began; still set on a row in `sending` means "perhaps sent".
    attempt_started_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))
    not_after: datetime | None = Field(default=None, sa_column=_at(nullable=True))
    provider_id: str | None = Field(default=None, index=True, max_length=64)
    error: str | None = None
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", index=True)
    created_at: datetime = Field(sa_column=_at())
    updated_at: datetime = Field(sa_column=_at())


class OutboundSpend(SQLModel, table=True):
    """Segments handed to a channel's provider on one local day: the daily cap's counter, one
    row per (channel, day), raised when a wave's provider calls begin and lowered when one is
    known not to have gone out (storage.outbox.reserve_spend)."""

    channel: str = Field(primary_key=True, max_length=16)
    day: date = Field(primary_key=True)
    segments: int = 0


class Staff(SQLModel, table=True):
    """A staff member: advisor (own places) or admin (everything).

    `created_by` is the staff member who created this account; None when it was the operator
    (the bootstrap token or the shell) — the two-person rule needs to know who stands behind a
    new account. The token expires `token_issued_at` + PASSNUM_STAFF_TOKEN_TTL_DAYS; a revoked
    member (`revoked_at`) is refused everywhere."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    role: str = Field(default="advisor", max_length=16)
    token_hash: str | None = Field(default=None, unique=True, max_length=128)
    place_ids: str = ""
    telegram_chat_id: int | None = Field(default=None, unique=True)
    created_at: datetime = Field(sa_column=_at())
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    token_issued_at: datetime = Field(sa_column=_at())
    revoked_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))


class Broadcast(SQLModel, table=True):
    """A message sent to a segment of beneficiaries through the outbox."""

    id: int | None = Field(default=None, primary_key=True)
    segment: str
    message: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = Field(default=None, max_length=8)
    status: str = Field(default="draft", max_length=16)
    send_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    approved_by: int | None = Field(default=None, foreign_key="staff.id")
    recipients: int = 0
    created_at: datetime = Field(sa_column=_at())


class AuditEntry(SQLModel, table=True):
    """Who did what, when, on which record."""

    id: int | None = Field(default=None, primary_key=True)
    actor: str
    action: str
    record: str | None = None
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = Field(sa_column=_at(index=True))


class HelpRequest(SQLModel, table=True):
    """A message left for staff through the help flow, and the staff answer."""

    id: int | None = Field(default=None, primary_key=True)
    beneficiary_id: int | None = Field(default=None, foreign_key="beneficiary.id", index=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_at(index=True))
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: int | None = Field(default=None, foreign_key="staff.id")
    answered_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))


class AddressOptOut(SQLModel, table=True):
    """A channel address that said STOP: kept even when no beneficiary holds it, so that a
    number that opted out before it was registered is never messaged afterwards."""

    address: str = Field(primary_key=True, max_length=64)
    channel: str = Field(max_length=16)
    opted_out_at: datetime = Field(sa_column=_at())


class ConsoleSession(SQLModel, table=True):
    """A signed-in staff console: the cookie holds a random secret, this row its hash. It is
    valid until `expires_at` and while the staff token it was opened with is still the
    member's (`token_hash`), so a revoked or replaced token ends the session too."""

    id_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    token_hash: str = Field(max_length=128)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_at())
    expires_at: datetime = Field(sa_column=_at(index=True))


class ConsoleSignInLink(SQLModel, table=True):
    """A one-time console sign-in link sent to a staff member's Telegram chat: the link holds a
    random secret, this row its hash. It opens one session, once (`used_at`), before
    `expires_at`, and only while the member's token is the one it was issued under."""

    secret_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    token_hash: str = Field(max_length=128)
    created_at: datetime = Field(sa_column=_at())
    expires_at: datetime = Field(sa_column=_at(index=True))
    used_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))


class AddressHistory(SQLModel, table=True):
    """A phone number or Telegram chat a beneficiary has held, kept so that erasing the person
    reaches the messages and conversations of every address they ever had (not only today's)."""

    __table_args__ = (UniqueConstraint("beneficiary_id", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    beneficiary_id: int = Field(foreign_key="beneficiary.id", index=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64, index=True)
    since: datetime = Field(sa_column=_at())


class InboundCount(SQLModel, table=True):
    """Inbound messages counted per key (an address digest, a beneficiary, the unknown
    senders of a channel) and fixed window, for the flood limits (storage.abuse)."""

    __table_args__ = (Index("ix_inboundcount_window", "window_start"),)

    key: str = Field(primary_key=True, max_length=64)
    window_start: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    hits: int = 0


class TelegramUpdate(SQLModel, table=True):
    """A Telegram update as received, stored before Telegram gets its 200: the update id makes
    a redelivery a no-op, and a worker answers pending ones in update-id order per chat, also
    after a crash. The payload is cleared once processed; the row is purged after a week."""

    __table_args__ = (
        Index("ix_telegramupdate_status_id", "status", "update_id"),
        Index("ix_telegramupdate_chat_id", "chat_id", "update_id"),
    )

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    payload: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default=TelegramUpdateStatus.PENDING.value, max_length=16)
    attempts: int = 0
    received_at: datetime = Field(sa_column=_at())
    next_attempt_at: datetime = Field(sa_column=_at())
    claimed_until: datetime | None = Field(default=None, sa_column=_at(nullable=True))
    processed_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))
