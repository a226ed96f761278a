"""Finding a slot: where, which topic, then three nearest slots at a time."""

from __future__ import annotations

from typing import Any

from flows.replies import YES_NO, menu, numbered
from flows.states import Outcome, State, Turn
from flows.types import Choice, Location, Reply, SlotView, TopicView
from flows.understand import is_more, match_label, parse_number

__all__ = [
    "PAGE",
    "ask_topic",
    "from_location",
    "on_ask_place",
    "on_choose_place",
    "on_choose_topic",
    "on_choose_slot",
    "show_slots",
    "slot_params",
    "start_search",
]

PAGE = 3
MAX_PLACES = 6


def slot_params(slot: SlotView) -> dict[str, Any]:
    """What a slot reply shows: date, place, address, commune, distance."""
    return {
        "starts_at": slot.starts_at,
        "place": slot.place_name,
        "address": slot.address,
        "commune": slot.commune,
        "distance_km": slot.distance_km,
    }


def no_voucher(turn: Turn) -> Outcome:
    """Says no voucher is left, with the advisor's phone; back to the menu."""
    contact = turn.ctx.directory.help_contact(turn.who.id)
    reply = Reply("find.no_voucher", {"phone": contact.phone, "hours": contact.hours})
    return menu(turn, before=[reply])


def start_search(turn: Turn) -> Outcome:
    """Asks where the person wants to go (commune, postcode, area or shared location)."""
    if turn.ctx.directory.balance(turn.who.id).available <= 0:
        return no_voucher(turn)
    location = (Choice(1, "find.share_location", request="location"),)
    return Outcome(State.ASK_PLACE, [Reply("find.ask_place", {}, location)])


def from_location(turn: Turn, location: Location) -> Outcome:
    """A location shared from any step: asks the topic for slots near it."""
    if turn.ctx.directory.balance(turn.who.id).available <= 0:
        return no_voucher(turn)
    return ask_topic(turn, ["", location.latitude, location.longitude])


def on_ask_place(turn: Turn) -> Outcome:
    """Reads a place; asks which one when several match, else asks the topic."""
    query = turn.text.strip()[:100]
    points = turn.ctx.directory.resolve_place(query) if turn.norm else []
    if not points:
        return Outcome(State.ASK_PLACE, [Reply("find.place_unknown")])
    if len(points) == 1:
        return ask_topic(turn, [points[0].label, points[0].latitude, points[0].longitude])
    found = [[p.label, p.latitude, p.longitude] for p in points[:MAX_PLACES]]
    choices = numbered("find.place_item", [{"label": p[0]} for p in found])
    return Outcome(
        State.CHOOSE_PLACE, [Reply("find.choose_place", {}, choices)], data={"points": found}
    )


def on_choose_place(turn: Turn) -> Outcome | None:
    """Reads which of the places was meant, then asks the topic."""
    points = turn.data.get("points", [])
    number = parse_number(turn.norm)
    if number is None:
        number = _plus_one(match_label(turn.norm, [p[0] for p in points]))
    if number is None or not 1 <= number <= len(points):
        return None
    return ask_topic(turn, points[number - 1])


def _plus_one(index: int | None) -> int | None:
    return None if index is None else index + 1


def _label(topic: TopicView, language: str) -> str:
    return topic.labels.get(language) or topic.labels.get("fr") or topic.key


def ask_topic(turn: Turn, point: list[Any]) -> Outcome:
    """Asks which topic, numbered, the first choice being 'any topic'."""
    topics = turn.ctx.directory.topics()
    if not topics:
        return show_slots(turn, point, None, 0)
    labels = [_label(t, turn.language) for t in topics]
    choices = (
        Choice(1, "find.any_topic"),
        *numbered("find.topic_item", [{"label": label} for label in labels], start=2),
    )
    data = {"point": point, "topics": [t.key for t in topics], "labels": labels}
    return Outcome(State.CHOOSE_TOPIC, [Reply("find.choose_topic", {}, choices)], data=data)


def on_choose_topic(turn: Turn) -> Outcome | None:
    """Reads the topic, then shows the nearest slots."""
    keys, labels = turn.data.get("topics", []), turn.data.get("labels", [])
    number = parse_number(turn.norm)
    if number is None:
        index = match_label(turn.norm, labels)
        number = None if index is None else index + 2  # choice 1 is "any topic"
    if number is None or not 1 <= number <= len(keys) + 1:
        return None
    topic = None if number == 1 else keys[number - 2]
    return show_slots(turn, turn.data.get("point", ["", 0.0, 0.0]), topic, 0)


def show_slots(
    turn: Turn, point: list[Any], topic: str | None, offset: int, before: list[Reply] | None = None
) -> Outcome:
    """Shows three slots nearest the point (and 'more'); asks which one."""
    _, latitude, longitude = point
    slots = turn.ctx.directory.nearest_slots(latitude, longitude, topic, offset, PAGE)
    if not slots:
        key = "slots.none" if offset == 0 else "slots.no_more"
        return menu(turn, before=[*(before or []), Reply(key)])
    items = numbered("slots.item", [slot_params(s) for s in slots])
    if len(slots) == PAGE:
        items = (*items, Choice(PAGE + 1, "slots.more"))
    header = "slots.list" if point[0] else "slots.list_here"
    reply = Reply(header, {"place": point[0]}, items)
    data = {"point": point, "topic": topic, "offset": offset, "slots": [s.id for s in slots]}
    return Outcome(State.CHOOSE_SLOT, [*(before or []), reply], data=data)


def on_choose_slot(turn: Turn) -> Outcome | None:
    """Reads the chosen slot (or 'more'), then asks to confirm the booking."""
    ids: list[int] = turn.data.get("slots", [])
    number = parse_number(turn.norm)
    if is_more(turn.norm) or (number == PAGE + 1 and len(ids) == PAGE):
        offset = int(turn.data.get("offset", 0)) + PAGE
        return show_slots(turn, turn.data["point"], turn.data.get("topic"), offset)
    if number is None or not 1 <= number <= len(ids):
        return None
    slot = turn.ctx.directory.slot(ids[number - 1])
    if slot is None:
        return show_slots(
            turn, turn.data["point"], turn.data.get("topic"), 0, before=[Reply("book.slot_gone")]
        )
    data = {**turn.data, "slot": slot.id}
    reply = Reply("book.confirm", slot_params(slot), YES_NO)
    return Outcome(State.CONFIRM_SLOT, [reply], data=data)
