"""My bookings: the list, then cancelling one (the voucher comes back)."""

from __future__ import annotations

from flows.booking import yes_or_no
from flows.replies import YES_NO, menu, numbered
from flows.states import Outcome, State, Turn
from flows.types import BookingView, CancelBooking, Rejected, Reply
from flows.understand import parse_number

__all__ = ["list_bookings", "on_cancel_rejected", "on_choose_booking", "on_confirm_cancel"]

MAX_SHOWN = 5


def _item(booking: BookingView) -> dict[str, object]:
    return {"starts_at": booking.slot.starts_at, "place": booking.slot.place_name}


def list_bookings(turn: Turn) -> Outcome:
    """Lists the bookings, numbered; asks which one to cancel."""
    bookings = turn.ctx.directory.bookings(turn.who.id)[:MAX_SHOWN]
    if not bookings:
        return menu(turn, "bookings.none")
    choices = numbered("bookings.item", [_item(b) for b in bookings])
    reply = Reply("bookings.list", {"_footer": "bookings.footer"}, choices)
    return Outcome(State.CHOOSE_BOOKING, [reply], data={"bookings": [b.id for b in bookings]})


def _phone_for(turn: Turn, booking: BookingView) -> str:
    """The place's phone, else the advisor's: who to call when it is too late."""
    if booking.slot.place_phone:
        return booking.slot.place_phone
    return turn.ctx.directory.help_contact(turn.who.id).phone


def on_choose_booking(turn: Turn) -> Outcome | None:
    """Reads the booking to cancel; asks to confirm, or says it is too late."""
    ids: list[int] = turn.data.get("bookings", [])
    number = parse_number(turn.norm)
    if number is None or not 1 <= number <= len(ids):
        return None
    current = {b.id: b for b in turn.ctx.directory.bookings(turn.who.id)}
    booking = current.get(ids[number - 1])
    if booking is None:
        return menu(turn, before=[Reply("cancel.not_found")])
    phone = _phone_for(turn, booking)
    if booking.slot.starts_at - turn.now < turn.ctx.settings.cancel_cutoff:
        return menu(turn, before=[Reply("cancel.too_late", {"phone": phone})])
    reply = Reply("cancel.confirm", _item(booking), YES_NO)
    data = {"booking": booking.id, "phone": phone}
    return Outcome(State.CONFIRM_CANCEL, [reply], data=data)


def on_confirm_cancel(turn: Turn) -> Outcome | None:
    """Cancels on yes; keeps the booking on no."""
    answer = yes_or_no(turn)
    if answer is None:
        return None
    if not answer:
        return menu(turn, "cancel.kept")
    booking_id = int(turn.data["booking"])
    return Outcome(State.MENU, [Reply("cancel.done")], [CancelBooking(booking_id)])


def on_cancel_rejected(turn: Turn, rejected: Rejected) -> Outcome:
    """Explains why the cancellation was refused; back to the menu."""
    if rejected.reason == "too_late":
        phone = turn.data.get("phone") or turn.ctx.directory.help_contact(turn.who.id).phone
        return menu(turn, before=[Reply("cancel.too_late", {"phone": phone})])
    if rejected.reason == "not_found":
        return menu(turn, before=[Reply("cancel.not_found")])
    return menu(turn, before=[Reply("error.try_again")])
