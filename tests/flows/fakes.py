"""An in-memory Directory for flow tests: a few places, slots and beneficiaries in Grenoble.

Read-only for the flows, like the real one. `apply` plays the part of the store for the
transcript runner: it executes an effect or refuses it with the reason storage would give.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from flows.types import (
    Balance,
    BeneficiaryView,
    BookingView,
    CancelBooking,
    Effect,
    HelpContact,
    LinkAddress,
    OptIn,
    OptOut,
    PlacePoint,
    ReserveSeat,
    SetLanguage,
    SetReminders,
    SlotView,
    TopicView,
)
from storage.geo import PlaceResolver, default_resolver

PARIS = ZoneInfo("Europe/Paris")
SEARCH_RADIUS_KM = 15.0


def paris(day: int, hour: int, minute: int = 0, month: int = 2) -> datetime:
    """A February 2025 Paris time, as the UTC datetime views carry."""
    return datetime(2025, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Place:
    name: str
    address: str
    commune: str
    latitude: float
    longitude: float
    phone: str | None = None


@dataclass
class Slot:
    id: int
    place: Place
    topic: str
    starts_at: datetime
    capacity: int = 8
    booked: int = 0


@dataclass
class Holder:
    view: BeneficiaryView
    booklet: str
    code: str
    phone: str
    token: str
    available: int
    reserved: int = 0
    expiry: date | None = date(2025, 6, 30)
    bookings: dict[int, int] = field(default_factory=dict)  # booking id → slot id


TEISSEIRE = Place(
    "Maison des habitants Teisseire",
    "2 rue du Vercors",
    "Grenoble",
    45.1700,
    5.7350,
    "04 76 11 22 33",
)
ECHIROLLES = Place(
    "Espace numérique Échirolles", "5 place des Cinq Continents", "Échirolles", 45.1450, 5.7200
)
LONG = Place(
    "Médiathèque et maison de la médiation numérique de Saint-Martin-d'Hères",
    "10 avenue du Maréchal de Lattre de Tassigny",
    "Saint-Martin-d'Hères",
    45.1670,
    5.7650,
    "04 76 44 55 66",
)
FONTANIL = Place(
    "Point numérique du Fontanil", "1 rue de la Mairie", "Le Fontanil-Cornillon", 45.2530, 5.6650
)

POINTS = {
    "grenoble": [PlacePoint("Grenoble", 45.1885, 5.7245)],
    "echirolles": [PlacePoint("Échirolles", 45.1436, 5.7186)],
    "saint martin d'heres": [PlacePoint("Saint-Martin-d'Hères", 45.1672, 5.7653)],
    "teisseire": [PlacePoint("Teisseire", 45.1680, 5.7370)],
    "le gua": [PlacePoint("Le Gua", 45.0160, 5.6120)],
    "fontaine": [PlacePoint("Fontaine", 45.1928, 5.6856)],
    "38120": [
        PlacePoint("Saint-Égrève", 45.2330, 5.6830),
        PlacePoint("Le Fontanil-Cornillon", 45.2530, 5.6650),
    ],
}
POSTCODES = {
    "38000": "grenoble",
    "38100": "grenoble",
    "38130": "echirolles",
    "38400": "saint martin d'heres",
    "38450": "le gua",
}

TOPICS = [
    TopicView("email", {"fr": "E-mail", "en": "Email"}),
    TopicView("demarches", {"fr": "Démarches en ligne", "en": "Online procedures"}),
    TopicView("logement", {"fr": "Chercher un logement", "en": "Housing search"}),
    TopicView("smartphone", {"fr": "Smartphone", "en": "Smartphone"}),
    TopicView("ordinateur", {"fr": "Débuter sur ordinateur", "en": "Computer basics"}),
    TopicView("securite", {"fr": "Arnaques et sécurité", "en": "Scams and safety"}),
    TopicView("visio", {"fr": "Appels vidéo", "en": "Video calls"}),
    TopicView("emploi", {"fr": "Chercher un emploi", "en": "Job search"}),
]


@cache
def _real_resolver() -> PlaceResolver:
    return default_resolver()


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("-", " "))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat = math.radians(lat2 - lat1)
    dlon = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 6371.0 * math.hypot(dlat, dlon)


def _slots() -> dict[int, Slot]:
    slots = [
        Slot(101, TEISSEIRE, "email", paris(3, 14)),
        Slot(102, ECHIROLLES, "demarches", paris(4, 9, 30)),
        Slot(103, LONG, "smartphone", paris(5, 14)),
        Slot(104, TEISSEIRE, "visio", paris(6, 10)),
        Slot(105, ECHIROLLES, "email", paris(7, 14, 30)),
        Slot(106, LONG, "securite", paris(10, 9)),
        Slot(107, FONTANIL, "logement", paris(11, 14)),
        Slot(108, TEISSEIRE, "smartphone", paris(12, 14), capacity=0),
        Slot(110, TEISSEIRE, "ordinateur", paris(3, 10), capacity=1, booked=1),
        Slot(111, ECHIROLLES, "email", paris(6, 14), capacity=6, booked=1),
    ]
    return {slot.id: slot for slot in slots}


def _holders() -> dict[int, Holder]:
    holders = [
        Holder(
            BeneficiaryView(7, "Aïcha"),
            "PN-0007",
            "4821",
            "+33612345678",
            "tok-aicha",
            available=4,
            reserved=2,
            bookings={201: 110, 202: 111},
        ),
        Holder(
            BeneficiaryView(8, "John", language="en"),
            "PN-0008",
            "1234",
            "+33700000008",
            "tok-john",
            available=3,
            reserved=1,
            bookings={203: 111},
        ),
        Holder(
            BeneficiaryView(9, "Zoé"),
            "PN-0009",
            "0000",
            "+33600000009",
            "tok-zoe",
            available=0,
            expiry=None,
        ),
        Holder(
            BeneficiaryView(10, "Mary", language="en"),
            "PN-0010",
            "5555",
            "+33600000010",
            "tok-mary",
            available=0,
            expiry=None,
        ),
        Holder(
            BeneficiaryView(11, "Fatou", commune="Grenoble"),
            "PN-0011",
            "2468",
            "+33600000011",
            "tok-fatou",
            available=3,
            reserved=1,
            bookings={211: 105},
        ),
        Holder(
            BeneficiaryView(12, "Kemal", language="en", commune="Échirolles"),
            "PN-0012",
            "1357",
            "+33600000012",
            "tok-kemal",
            available=2,
            reserved=1,
            bookings={212: 106},
        ),
    ]
    return {holder.view.id: holder for holder in holders}


class FakeDirectory:
    """Implements flows.types.Directory over the data above."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slots = _slots()
        self.holders = _holders()
        self.next_booking = 300

    # ------------------------------------------------ the Directory protocol

    def balance(self, beneficiary_id: int) -> Balance:
        holder = self.holders[beneficiary_id]
        return Balance(holder.available, 1000, holder.expiry, holder.reserved)

    def resolve_place(self, text: str) -> list[PlacePoint]:
        key = _plain(text)
        key = POSTCODES.get(key, key)
        if key in POINTS:
            return POINTS[key]
        found = process.extractOne(key, list(POINTS), scorer=fuzz.ratio, score_cutoff=85)
        if found:
            return POINTS[found[0]]
        return _real_resolver().resolve(text)  # the product's own: "st martin", "smh", "38 000"

    def _view(
        self, slot: Slot, latitude: float | None = None, longitude: float | None = None
    ) -> SlotView:
        place = slot.place
        distance = None
        if latitude is not None and longitude is not None:
            distance = round(_km(latitude, longitude, place.latitude, place.longitude), 1)
        return SlotView(
            slot.id,
            place.name,
            place.address,
            place.commune,
            slot.starts_at,
            slot.starts_at + timedelta(hours=2),
            slot.topic,
            slot.capacity - slot.booked,
            place.phone,
            distance,
        )

    def nearest_slots(
        self, latitude: float, longitude: float, topic: str | None, offset: int, limit: int
    ) -> list[SlotView]:
        soon = self.now + timedelta(hours=1)
        views = [
            self._view(s, latitude, longitude)
            for s in self.slots.values()
            if s.starts_at >= soon and s.booked < s.capacity and (topic is None or s.topic == topic)
        ]
        near = [v for v in views if (v.distance_km or 0.0) <= SEARCH_RADIUS_KM]
        near.sort(key=lambda v: (v.distance_km, v.starts_at))
        return near[offset : offset + limit]

    def slot(self, slot_id: int) -> SlotView | None:
        slot = self.slots.get(slot_id)
        return self._view(slot) if slot else None

    def bookings(self, beneficiary_id: int) -> list[BookingView]:
        holder = self.holders[beneficiary_id]
        views = [
            BookingView(bid, self._view(self.slots[sid]))
            for bid, sid in holder.bookings.items()
            if self.slots[sid].starts_at > self.now
        ]
        return sorted(views, key=lambda b: b.slot.starts_at)

    def topics(self) -> list[TopicView]:
        return list(TOPICS)

    def find_booklet(self, number: str, code: str) -> BeneficiaryView | None:
        wanted = number.replace("-", "").upper()
        for holder in self.holders.values():
            if holder.booklet.replace("-", "") == wanted and holder.code == code:
                return holder.view
        return None

    def beneficiary_by_phone(self, phone: str) -> BeneficiaryView | None:
        return next((h.view for h in self.holders.values() if h.phone == phone), None)

    def beneficiary_by_link_token(self, token: str) -> BeneficiaryView | None:
        return next((h.view for h in self.holders.values() if h.token == token), None)

    def help_contact(self, beneficiary_id: int | None) -> HelpContact:
        if beneficiary_id == 7:
            return HelpContact("04 76 00 00 07", "lun.-ven. 9h-12h")
        return HelpContact("04 76 00 00 00", "lun.-ven. 9h-17h")

    # ------------------------------------------------ the store's side, for the runner

    def view(self, beneficiary_id: int) -> BeneficiaryView:
        return self.holders[beneficiary_id].view

    def apply(self, beneficiary_id: int | None, effect: Effect) -> None:
        """Execute an effect of a linked person, or raise Refused(reason)."""
        if beneficiary_id is None:
            return
        holder = self.holders[beneficiary_id]
        if isinstance(effect, LinkAddress) and effect.link_token is not None:
            if holder.token != effect.link_token:
                raise Refused("link_used")
            holder.token = ""  # a deep link links once
        elif isinstance(effect, ReserveSeat):
            self._reserve(holder, effect.slot_id)
        elif isinstance(effect, CancelBooking):
            self._cancel(holder, effect.booking_id)
        elif isinstance(effect, SetReminders):
            holder.view = replace(holder.view, reminders_enabled=effect.enabled)
        elif isinstance(effect, SetLanguage):
            holder.view = replace(holder.view, language=effect.language)
        elif isinstance(effect, OptOut | OptIn):
            holder.view = replace(holder.view, opted_out=isinstance(effect, OptOut))

    def _reserve(self, holder: Holder, slot_id: int) -> None:
        slot = self.slots.get(slot_id)
        if slot is None:
            raise Refused("slot_gone")
        if slot_id in holder.bookings.values():
            raise Refused("already_booked")
        if slot.booked >= slot.capacity:
            raise Refused("slot_full")
        if holder.available <= 0:
            raise Refused("no_voucher")
        slot.booked += 1
        holder.available, holder.reserved = holder.available - 1, holder.reserved + 1
        self.next_booking += 1
        holder.bookings[self.next_booking] = slot_id

    def _cancel(self, holder: Holder, booking_id: int) -> None:
        if booking_id not in holder.bookings:
            raise Refused("not_found")
        slot = self.slots[holder.bookings[booking_id]]
        if slot.starts_at - self.now < timedelta(hours=2):
            raise Refused("too_late")
        del holder.bookings[booking_id]
        slot.booked -= 1
        holder.available, holder.reserved = holder.available + 1, holder.reserved - 1
