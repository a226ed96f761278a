"""Finding a slot. A request fills what it names (place, topic, day) and only what is
missing is asked: "atelier ordinateur a fontaine demain aprem" goes straight to the slots.

The search lives in the step data (see `search_of`): `{"point": [label, lat, lon],
"topic": "email" | null, "when": [first, last, part] | null, "shown": [ids of earlier pages],
"slots": [ids on this page], "asked_topic": bool}`.
"""

from __future__ import annotations

from typing import Any

from flows.interpret import Heard
from flows.places import named_places
from flows.replies import YES_NO, menu, numbered
from flows.states import Outcome, State, Turn
from flows.types import Choice, Location, PlacePoint, Reply, SlotView, TopicView
from flows.understand import match_label
from flows.when import When

__all__ = [
    "KNOWN_TOPICS",
    "PAGE",
    "ask_place",
    "ask_topic",
    "from_location",
    "no_voucher",
    "on_ask_place",
    "on_choose_place",
    "on_choose_slot",
    "on_choose_topic",
    "refine",
    "search_of",
    "show_slots",
    "slot_params",
    "start_search",
]

PAGE = 2  # two sessions and 'other dates' fit one SMS
MAX_PLACES = 6
CANDIDATES = 40  # slots read per search: enough for a few pages
CANDIDATES_FOR_A_DAY = 200  # with a day named, the nearest 40 may all fall on other days
BANDS_KM = (2.0, 5.0, 10.0, 20.0)  # within a band, the soonest session comes first
# The SPEC's topic keys have a short label in the catalogs ("topic.email").
KNOWN_TOPICS = frozenset(
    {"email", "demarches", "logement", "smartphone", "ordinateur", "securite", "visio", "emploi"}
)


def slot_params(slot: SlotView) -> dict[str, Any]:
    """What a slot reply shows: date, place, address, commune, distance."""
    return {
        "starts_at": slot.starts_at,
        "place": slot.place_name,
        "address": slot.address,
        "commune": slot.commune,
        "distance_km": slot.distance_km,
    }


def search_of(data: dict[str, Any]) -> dict[str, Any]:
    """The search kept in step data, with every key present and well typed."""
    point = data.get("point")
    valid = isinstance(point, list) and len(point) == 3
    return {
        "point": point if valid else None,
        "topic": data.get("topic") if isinstance(data.get("topic"), str) else None,
        "when": data.get("when") if When.from_json(data.get("when")) else None,
        "shown": [i for i in data.get("shown", []) if isinstance(i, int)],
        "asked_topic": data.get("asked_topic") is True,
        "home": data.get("home") is True,
    }


def no_voucher(turn: Turn) -> Outcome:
    """Says no voucher is left, with the advisor's phone; back to the menu."""
    contact = turn.ctx.directory.help_contact(turn.who.id)
    reply = Reply("find.no_voucher", {"phone": contact.phone, "hours": contact.hours})
    return menu(turn, before=[reply])


def ask_place(turn: Turn, search: dict[str, Any], key: str = "find.ask_place") -> Outcome:
    """Asks where the person wants to go (commune, postcode, area or shared location)."""
    location = (Choice(1, "find.share_location", request="location"),)
    return Outcome(State.ASK_PLACE, [Reply(key, {}, location)], data=search)


def start_search(turn: Turn, heard: Heard | None = None) -> Outcome:
    """Fills place, topic and day from the message; asks the place only when unknown."""
    if turn.ctx.directory.balance(turn.who.id).available <= 0:
        return no_voucher(turn)
    heard = heard if heard is not None else turn.heard
    search: dict[str, Any] = {
        "point": None,
        "topic": heard.topic,
        "when": heard.when.to_json() if heard.when else None,
        "shown": [],
    }
    points = named_places(turn, heard)
    if heard.near_me and points:
        search["home"] = True
    if points is None and turn.who.commune:
        home = turn.ctx.directory.resolve_place(turn.who.commune)[:1]
        if home:
            return _to_points(turn, {**search, "home": True}, home)
    if points:
        return _to_points(turn, search, points)
    if points == []:
        return ask_place(turn, search, "find.place_unknown")
    return ask_place(turn, search)


def _point(place: PlacePoint) -> list[Any]:
    return [place.label, place.latitude, place.longitude]


def _to_points(
    turn: Turn, search: dict[str, Any], points: list[PlacePoint], ask: bool = False
) -> Outcome:
    """One point: the slots (or the topic question); several: which one."""
    if len(points) == 1:
        search = {**search, "point": _point(points[0]), "shown": [], "home": search.get("home")}
        return ask_topic(turn, search) if ask else show_slots(turn, search)
    found = [_point(p) for p in points[:MAX_PLACES]]
    choices = numbered("find.place_item", [{"label": p[0]} for p in found])
    data = {**search, "points": found}
    return Outcome(State.CHOOSE_PLACE, [Reply("find.choose_place", {}, choices)], data=data)


def from_location(turn: Turn, location: Location) -> Outcome:
    """A location shared from any step: the slots near it."""
    if turn.ctx.directory.balance(turn.who.id).available <= 0:
        return no_voucher(turn)
    search = {**search_of(turn.data), "point": ["", location.latitude, location.longitude]}
    return show_slots(turn, {**search, "shown": []})


def on_ask_place(turn: Turn) -> Outcome | None:
    """Reads a place (or "près de chez moi"); keeps a topic or day given on the way."""
    heard = turn.heard
    search = search_of(turn.data)
    if heard.topic or heard.when:
        search = _with(search, heard)
    if heard.intent == "where" and not heard.has("intent.bookings"):
        return ask_place(turn, search, "find.place_unknown")  # "où ça ?", "n'importe où"
    points = named_places(turn, heard)
    if points:
        return _to_points(turn, search, points, ask=not (heard.topic or heard.when))
    if points == [] and heard.intent is None:
        return ask_place(turn, search, "find.place_unknown")
    if (heard.topic or heard.when) and heard.intent in (None, "find"):
        return ask_place(turn, search)
    return None


def on_choose_place(turn: Turn) -> Outcome | None:
    """Reads which of the places was meant, then asks the topic."""
    points = turn.data.get("points", [])
    number = turn.heard.number
    if number is None:
        index = match_label(" ".join(turn.heard.words), [p[0] for p in points])
        number = None if index is None else index + 1
    if number is None:
        return refine(turn, search_of(turn.data))  # another place, a topic or a day
    if not 1 <= number <= len(points):
        return None
    search = {**search_of(turn.data), "point": points[number - 1], "shown": []}
    return ask_topic(turn, search)


def _label(topic: TopicView, language: str) -> str:
    return topic.labels.get(language) or topic.labels.get("fr") or topic.key


def _topic_choice(number: int, topic: TopicView, language: str) -> Choice:
    if topic.key in KNOWN_TOPICS:
        return Choice(number, f"topic.{topic.key}")
    return Choice(number, "find.topic_item", {"label": _label(topic, language)})


def ask_topic(turn: Turn, search: dict[str, Any]) -> Outcome:
    """Asks the topic, only among those with sessions near the point, when that narrows
    the choice; otherwise shows the slots at once."""
    point = search["point"]
    near = turn.ctx.directory.nearest_slots(point[1], point[2], None, 0, CANDIDATES)
    present = {slot.topic for slot in near}
    topics = [t for t in turn.ctx.directory.topics() if t.key in present]
    if len(topics) < 2 or len(near) <= PAGE:
        return show_slots(turn, search)
    choices = (
        Choice(1, "find.any_topic"),
        *(_topic_choice(n, t, turn.language) for n, t in enumerate(topics, start=2)),
    )
    data = {**search, "topics": [t.key for t in topics], "asked_topic": True}
    reply = Reply("find.choose_topic", {"place": point[0]}, choices)
    return Outcome(State.CHOOSE_TOPIC, [reply], data=data)


def on_choose_topic(turn: Turn) -> Outcome | None:
    """Reads the topic (or a new place, or a day), then shows the nearest slots."""
    heard = turn.heard
    keys = [k for k in turn.data.get("topics", []) if isinstance(k, str)]
    search = search_of(turn.data)
    if search["point"] is None:
        return None
    number = heard.number
    if number is None and not heard.topic:
        labels = [_label(t, turn.language) for t in turn.ctx.directory.topics() if t.key in keys]
        index = match_label(turn.norm, labels)
        number = None if index is None else index + 2
    if number is not None and 1 <= number <= len(keys) + 1:
        return show_slots(turn, {**search, "topic": None if number == 1 else keys[number - 2]})
    if heard.has("any") and heard.intent is None:
        return show_slots(turn, {**search, "topic": None})
    return refine(turn, search)


def refine(turn: Turn, search: dict[str, Any]) -> Outcome | None:
    """A place, topic or day named inside the search narrows it ("plutôt jeudi")."""
    heard = turn.heard
    if heard.intent not in (None, "find") or heard.number is not None:
        return None
    points = named_places(turn, heard)
    if points:
        return _to_points(turn, {**_with(search, heard), "home": False}, points)
    if search["point"] is None and (heard.topic or heard.when):
        return ask_place(turn, _with(search, heard))
    if heard.topic or heard.when or (heard.has("any") and search["topic"]):
        return show_slots(turn, {**_with(search, heard), "shown": []})
    return None


def _with(search: dict[str, Any], heard: Heard) -> dict[str, Any]:
    changed = dict(search)
    if heard.topic:
        changed["topic"] = heard.topic
    elif heard.has("any"):
        changed["topic"] = None
    if heard.when:
        changed["when"] = heard.when.to_json()
    return changed


def _band(slot: SlotView) -> int:
    distance = slot.distance_km or 0.0
    return sum(1 for limit in BANDS_KM if distance >= limit)


def _page(candidates: list[SlotView]) -> list[SlotView]:
    """Soonest first within a distance band; one session per place, then the rest."""
    ranked = sorted(candidates, key=lambda s: (_band(s), s.starts_at))
    page: list[SlotView] = []
    for slot in ranked:
        if len(page) < PAGE and all(s.place_name != slot.place_name for s in page):
            page.append(slot)
    for slot in ranked:
        if len(page) < PAGE and slot not in page:
            page.append(slot)
    return sorted(page, key=ranked.index)


def show_slots(turn: Turn, search: dict[str, Any], before: list[Reply] | None = None) -> Outcome:
    """Shows up to three slots near the point (and 'more'); asks which one."""
    point, topic = search["point"], search["topic"]
    wanted = CANDIDATES_FOR_A_DAY if search.get("when") else CANDIDATES
    found = turn.ctx.directory.nearest_slots(point[1], point[2], topic, 0, wanted)
    notes = list(before or [])
    if topic and not found and not search["shown"]:
        found = turn.ctx.directory.nearest_slots(point[1], point[2], None, 0, CANDIDATES)
        if found:
            notes.append(Reply("slots.none_topic"))
            search = {**search, "topic": None}
    when = When.from_json(search.get("when"))
    fitting = (
        [s for s in found if when.fits(s.starts_at, turn.ctx.settings.timezone)] if when else found
    )
    if when and not fitting and found:
        notes.append(Reply("slots.none_that_day"))
        search, fitting = {**search, "when": None}, found
    shown = set(search["shown"])
    remaining = [s for s in fitting if s.id not in shown]
    page = _page(remaining)
    if not page:
        key = "slots.none" if not shown else "slots.no_more"
        return menu(turn, before=[*notes, Reply(key)])
    items = numbered("slots.item", [slot_params(s) for s in page])
    if len(remaining) > len(page):
        items = (*items, Choice(len(page) + 1, "slots.more"))
    header = "slots.list_home" if search.get("home") else "slots.list"
    header = header if point[0] else "slots.list_here"
    reply = Reply(header, {"place": point[0]}, items)
    data = {**search, "slots": [s.id for s in page], "more": len(remaining) > len(page)}
    return Outcome(State.CHOOSE_SLOT, [*notes, reply], data=data)


def on_choose_slot(turn: Turn) -> Outcome | None:
    """Reads the chosen slot (or 'more', or a new day, topic or place)."""
    heard = turn.heard
    ids = [i for i in turn.data.get("slots", []) if isinstance(i, int)]
    search = search_of(turn.data)
    if search["point"] is None:
        return None
    number = heard.number
    has_more = turn.data.get("more", len(ids) == PAGE) is True
    more = heard.small == "more" or (number == len(ids) + 1 and has_more)
    if more:
        return show_slots(turn, {**search, "shown": [*search["shown"], *ids]})
    if number is not None and 1 <= number <= len(ids):
        return _confirm(turn, {**search, "slots": ids}, ids[number - 1])
    return refine(turn, search)


def _confirm(turn: Turn, search: dict[str, Any], slot_id: int) -> Outcome:
    slot = turn.ctx.directory.slot(slot_id)
    if slot is None:
        return show_slots(turn, search, before=[Reply("book.slot_gone")])
    reply = Reply("book.confirm", slot_params(slot), YES_NO)
    return Outcome(State.CONFIRM_SLOT, [reply], data={**search, "slot": slot.id})
