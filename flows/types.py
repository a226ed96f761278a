"""The flow engine's contract: inputs, read-only views, the lookup protocol, effects, replies.

`flows` knows no SMS, Telegram, HTTP, SQL or clock. The caller (bot/) builds a `Ctx`, calls
`flows.handle(state, message, ctx)` and gets a `Step`: the new state (plain JSON-able dict),
the replies (message ids + parameters, rendered per channel later) and the effects to execute
in one transaction. When the store refuses an effect (a race lost on the last seat, say), the
caller feeds `Rejected(...)` back into `handle` with the state from before, and sends that
step's replies instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flows.lexicon import EMPTY_LEXICON, Lexicon

__all__ = [
    "Balance",
    "BeneficiaryView",
    "CallStart",
    "BookingNotice",
    "BookingView",
    "CancelBooking",
    "Choice",
    "Contact",
    "Ctx",
    "Directory",
    "Effect",
    "FlowSettings",
    "HelpContact",
    "Input",
    "LeaveHelpMessage",
    "LinkAddress",
    "Location",
    "OptIn",
    "OptOut",
    "PlacePoint",
    "Rejected",
    "Reply",
    "ReserveSeat",
    "SetLanguage",
    "SetReminderChannel",
    "SetReminders",
    "SlotView",
    "Start",
    "Step",
    "Text",
    "TopicView",
    # outbound messages (flows.outbound)
    "ExpiringVouchers",
    "MessageToQueue",
    "MissedBooking",
    "Recipient",
    "SlotAudience",
    "SlotText",
]


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Text:
    """A typed message. `{"text": "combien il me reste"}`"""

    text: str


@dataclass(frozen=True)
class Location:
    """A location shared on Telegram. `{"latitude": 45.16, "longitude": 5.71}`"""

    latitude: float
    longitude: float


@dataclass(frozen=True)
class Contact:
    """A phone number shared on Telegram; `is_own` when the contact's user_id is the sender's.
    `{"phone": "+33612345678", "is_own": true}`"""

    phone: str
    is_own: bool


@dataclass(frozen=True)
class Start:
    """Telegram `/start`, with the deep-link token if any. `{"token": "a1b2c3"}`"""

    token: str | None = None


@dataclass(frozen=True)
class Rejected:
    """The store refused an effect of the previous step.
    `reason` is one of: slot_full, no_voucher, slot_gone, already_booked, too_late, not_found,
    link_used.
    `{"effect": "ReserveSeat", "reason": "slot_full"}`"""

    effect: Effect
    reason: str


@dataclass(frozen=True)
class CallStart:
    """A phone call to the voice line begins: it starts at the menu (or the booklet question),
    whatever step an earlier SMS left; the lock and the language stay. `{}`"""


Input = Text | Location | Contact | Start | Rejected | CallStart


# ---------------------------------------------------------------- views (read-only)


@dataclass(frozen=True)
class BeneficiaryView:
    """`{"id": 7, "first_name": "Aïcha", "language": "fr", "reminders_enabled": true,
    "opted_out": false}`"""

    id: int
    first_name: str
    language: str = "fr"
    reminders_enabled: bool = True
    opted_out: bool = False
    commune: str | None = None  # home commune's name: "près de chez moi"


@dataclass(frozen=True)
class Balance:
    """`{"available": 4, "value_cents": 1000, "next_expiry": "2027-03-31", "reserved": 1}`"""

    available: int
    value_cents: int
    next_expiry: date | None
    reserved: int


@dataclass(frozen=True)
class SlotView:
    """An upcoming slot as shown to a beneficiary. `distance_km` is None when not searched
    from a point. `{"id": 12, "place_name": "Maison des habitants Teisseire", ...}`"""

    id: int
    place_name: str
    address: str
    commune: str
    starts_at: datetime
    ends_at: datetime
    topic: str
    free_seats: int
    place_phone: str | None = None
    distance_km: float | None = None


@dataclass(frozen=True)
class BookingView:
    """A live booking. `{"id": 3, "slot": {...}}`"""

    id: int
    slot: SlotView


@dataclass(frozen=True)
class PlacePoint:
    """What a typed place resolved to. `{"label": "Échirolles", "latitude": 45.14,
    "longitude": 5.71}`"""

    label: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class TopicView:
    """`{"key": "email", "labels": {"fr": "E-mail", "en": "E-mail"}}`"""

    key: str
    labels: dict[str, str]


@dataclass(frozen=True)
class HelpContact:
    """`{"phone": "04 76 00 00 00", "hours": "lun.-ven. 9h-17h"}`"""

    phone: str
    hours: str


class Directory(Protocol):
    """Read-only lookups the flows may make. Implemented over the database by storage/."""

    def balance(self, beneficiary_id: int) -> Balance: ...

    def resolve_place(self, text: str) -> list[PlacePoint]:
        """0 points: unknown; 1: found; several: let the person choose (shared postcode)."""
        ...

    def nearest_slots(
        self, latitude: float, longitude: float, topic: str | None, offset: int, limit: int
    ) -> list[SlotView]:
        """Upcoming slots with free seats, by distance then start, none within the hour."""
        ...

    def slot(self, slot_id: int) -> SlotView | None: ...

    def bookings(self, beneficiary_id: int) -> list[BookingView]:
        """Live (booked) bookings of slots not yet started, soonest first."""
        ...

    def topics(self) -> list[TopicView]: ...

    def find_booklet(self, number: str, code: str) -> BeneficiaryView | None:
        """The holder of that booklet when the verification code matches, else None."""
        ...

    def beneficiary_by_phone(self, phone: str) -> BeneficiaryView | None: ...

    def beneficiary_by_link_token(self, token: str) -> BeneficiaryView | None: ...

    def help_contact(self, beneficiary_id: int | None) -> HelpContact: ...


@dataclass(frozen=True)
class FlowSettings:
    """The settings the flows read."""

    conversation_timeout: timedelta = timedelta(minutes=30)
    cancel_cutoff: timedelta = timedelta(hours=2)
    sms_two_way: bool = True
    languages: tuple[str, ...] = ("fr", "en")
    voice_reminders: bool = False  # reminders by phone call may be chosen (PASSNUM_VOICE_REMINDERS)
    lexicon: Lexicon = EMPTY_LEXICON  # config/lexicon/*.json, loaded by bot/
    timezone: tzinfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))


@dataclass(frozen=True)
class BookingNotice:
    """The last message we sent this address about one booking (a reminder, a changed slot):
    replies like "c ou" or "je pourrai pas venir" are about it for a day.
    `{"booking_id": 3, "sent_at": "2025-02-05T14:00:00+00:00"}`"""

    booking_id: int
    sent_at: datetime


@dataclass(frozen=True)
class Ctx:
    """Everything from outside: the clock, the channel, who is talking and the lookups."""

    now: datetime
    channel: str  # "sms", "telegram" or "voice" (a phone call: the address is the phone)
    address: str  # "+33612345678" or "tg:123456"
    beneficiary: BeneficiaryView | None
    directory: Directory
    settings: FlowSettings = field(default_factory=FlowSettings)
    notice: BookingNotice | None = None


# ---------------------------------------------------------------- effects (commands)


@dataclass(frozen=True)
class LinkAddress:
    """Link the talking address (phone or Telegram chat) to a beneficiary; by a deep link,
    `link_token` is spent by the link (refused "link_used" when someone used it first).
    `{"beneficiary_id": 7, "link_token": null}`"""

    beneficiary_id: int
    link_token: str | None = field(default=None, repr=False)  # a secret: kept out of logs


@dataclass(frozen=True)
class ReserveSeat:
    """Book a seat on a slot and reserve one voucher, atomically. `{"slot_id": 12}`"""

    slot_id: int


@dataclass(frozen=True)
class CancelBooking:
    """Cancel a booking and give its voucher back. `{"booking_id": 3}`"""

    booking_id: int


@dataclass(frozen=True)
class SetReminders:
    """`{"enabled": false}`"""

    enabled: bool


@dataclass(frozen=True)
class SetReminderChannel:
    """Send reminders by this channel from now on ("sms", "telegram" or "voice": a call).
    `{"channel": "telegram"}`"""

    channel: str


@dataclass(frozen=True)
class OptOut:
    """STOP: nothing more is sent to this address until START. `{}`"""


@dataclass(frozen=True)
class OptIn:
    """START. `{}`"""


@dataclass(frozen=True)
class SetLanguage:
    """`{"language": "en"}`"""

    language: str


@dataclass(frozen=True)
class LeaveHelpMessage:
    """A message for staff, from the help flow. `{"text": "je n'arrive pas à venir"}`"""

    text: str


Effect = (
    LinkAddress
    | ReserveSeat
    | CancelBooking
    | SetReminders
    | SetReminderChannel
    | OptOut
    | OptIn
    | SetLanguage
    | LeaveHelpMessage
)


# ---------------------------------------------------------------- output


@dataclass(frozen=True)
class Choice:
    """A numbered choice, shown as a keyboard button on Telegram. `{"number": 1, "key":
    "menu.balance"}`; `request` is "location" or "contact" for Telegram's special buttons."""

    number: int
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    request: str | None = None


@dataclass(frozen=True)
class Reply:
    """A message id of the catalog with its parameters. `{"key": "balance.summary",
    "params": {"available": 4}}`"""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Step:
    """What `handle` returns."""

    state: dict[str, Any]
    replies: list[Reply]
    effects: list[Effect] = field(default_factory=list)


# ---------------------------------------------------------------- outbound (flows.outbound)
# What storage reads for the outbound rules, and what the rules give back to be queued.


@dataclass(frozen=True)
class Recipient:
    """Who a reminder or notice goes to. `{"id": 3, "first_name": "Aïcha", "language": "fr",
    "phone": "+33612345678", "telegram_chat_id": null, "preferred_channel": null,
    "last_channel": "sms", "telegram_unreachable": false}`"""

    id: int
    first_name: str
    language: str
    phone: str | None
    telegram_chat_id: int | None
    preferred_channel: str | None
    last_channel: str | None
    telegram_unreachable: bool


@dataclass(frozen=True)
class MessageToQueue:
    """One outbox row to write. `{"channel": "sms", "address": "+33612345678", "body": "Rappel
    : …", "segments": 1, "beneficiary_id": 3, "dedupe_key": "noshow:booking:12", "send_after":
    "2026-12-01T10:00:00+01:00", "not_after": "2026-12-03T10:00:00+01:00"}`"""

    channel: str
    address: str
    body: str
    segments: int
    beneficiary_id: int | None
    dedupe_key: str
    send_after: datetime | None = None
    not_after: datetime | None = None


@dataclass(frozen=True)
class SlotAudience:
    """A slot with bookings still to remind, once per channel and language they need.
    `{"slot_id": 4, "starts_at": "…", "place": "Maison 1", "address": "1 rue Haute",
    "commune": "Grenoble", "phone": "0476000001", "channel": "sms", "language": "fr"}`"""

    slot_id: int
    starts_at: datetime
    place: str
    address: str
    commune: str
    phone: str | None
    channel: str
    language: str


@dataclass(frozen=True)
class SlotText:
    """What the bookings of one (slot, channel, language) get: the text and the times; bookings
    made after `booked_by` get nothing. `{"slot_id": 4, "channel": "sms", "language": "fr",
    "body": "Rappel : …", "segments": 1, "booked_by": "…", "send_at": "…", "not_after": "…"}`"""

    slot_id: int
    channel: str
    language: str
    body: str
    segments: int
    booked_by: datetime
    send_at: datetime
    not_after: datetime


@dataclass(frozen=True)
class ExpiringVouchers:
    """Available vouchers of one booklet expiring on one day. `{"booklet": "PN-0001",
    "expires_on": "2027-03-31", "available": 2, "recipient": {…}}`"""

    booklet: str
    expires_on: date
    available: int
    recipient: Recipient


@dataclass(frozen=True)
class MissedBooking:
    """A recent no-show of someone with a voucher left. `{"booking_id": 12, "starts_at": "…",
    "place_phone": "0476000001", "recipient": {…}}`"""

    booking_id: int
    starts_at: datetime
    place_phone: str | None
    recipient: Recipient
