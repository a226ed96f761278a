"""My bookings: the list, cancelling one (the voucher comes back), and questions about one
("c'est où ?", "à quelle heure ?", "je pourrai pas venir"): they are about the booking our
last message spoke of (for a day), else the one on the day named, else the only one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flows.booking import yes_or_no
from flows.replies import YES_NO, menu, numbered
from flows.states import Outcome, State, Turn
from flows.types import BookingView, CancelBooking, Choice, Rejected, Reply

__all__ = [
    "NOTICE_LIFETIME",
    "about_booking",
    "booking_info",
    "cancel_request",
    "list_bookings",
    "on_cancel_rejected",
    "on_choose_booking",
    "on_confirm_cancel",
]

MAX_SHOWN = 5
NOTICE_LIFETIME = timedelta(days=1)


def _item(booking: BookingView) -> dict[str, object]:
    return {"starts_at": booking.slot.starts_at, "place": booking.slot.place_name}


def _current(turn: Turn) -> list[BookingView]:
    return turn.ctx.directory.bookings(turn.who.id)


def about_booking(turn: Turn, bookings: list[BookingView]) -> BookingView | None:
    """The booking a reply is about: our last notice's, the day named, or the only one."""
    notice = turn.ctx.notice
    if notice is not None and turn.now - notice.sent_at <= NOTICE_LIFETIME:
        for booking in bookings:
            if booking.id == notice.booking_id:
                return booking
    when = turn.heard.when
    if when is not None:
        tz = turn.ctx.settings.timezone
        on_day = [b for b in bookings if when.fits(b.slot.starts_at, tz)]
        if len(on_day) == 1:
            return on_day[0]
    return bookings[0] if len(bookings) == 1 else None


def list_bookings(turn: Turn, pending: dict[str, Any] | None = None) -> Outcome:
    """Lists the bookings, numbered; asks which one to cancel (and offers the search back)."""
    bookings = _current(turn)[:MAX_SHOWN]
    if not bookings:
        return menu(turn, "bookings.none")
    choices = numbered("bookings.item", [_item(b) for b in bookings])
    data: dict[str, object] = {"bookings": [b.id for b in bookings]}
    if pending:
        choices = (*choices, Choice(len(choices) + 1, "resume.choice"))
        data["pending"] = pending
    footer = {"_footer": "bookings.footer", "_footer_items": len(bookings)}  # not "Reprendre"
    reply = Reply("bookings.list", footer, choices)
    return Outcome(State.CHOOSE_BOOKING, [reply], data=data)


def _phone_for(turn: Turn, booking: BookingView) -> str:
    """The place's phone, else the advisor's: who to call when it is too late."""
    if booking.slot.place_phone:
        return booking.slot.place_phone
    return turn.ctx.directory.help_contact(turn.who.id).phone


def ask_cancel(turn: Turn, booking: BookingView) -> Outcome:
    """Asks to confirm cancelling this booking, or says it is too late to do it by message."""
    phone = _phone_for(turn, booking)
    if booking.slot.starts_at - turn.now < turn.ctx.settings.cancel_cutoff:
        return menu(turn, before=[Reply("cancel.too_late", {"phone": phone})])
    reply = Reply("cancel.confirm", _item(booking), YES_NO)
    data = {"booking": booking.id, "phone": phone}
    return Outcome(State.CONFIRM_CANCEL, [reply], data=data)


def cancel_request(turn: Turn, pending: dict[str, Any] | None = None) -> Outcome:
    """ "annuler", "je pourrai pas venir": straight to the booking meant, else the list."""
    bookings = _current(turn)
    booking = about_booking(turn, bookings)
    if booking is not None:
        return ask_cancel(turn, booking)
    return list_bookings(turn, pending)


def booking_info(turn: Turn) -> Outcome | None:
    """ "c'est où ?", "à quelle heure ?": date, time and address of the booking meant."""
    bookings = _current(turn)
    if not bookings:
        return menu(turn, "bookings.none")
    booking = about_booking(turn, bookings) or bookings[0]
    slot = booking.slot
    params = {
        "starts_at": slot.starts_at,
        "place": slot.place_name,
        "address": slot.address,
        "commune": slot.commune,
    }
    return Outcome(State.MENU, [Reply("bookings.info", params)])


def on_choose_booking(turn: Turn) -> Outcome | None:
    """Reads the booking to cancel (by number or by day); or takes the search up again."""
    ids = [i for i in turn.data.get("bookings", []) if isinstance(i, int)]
    number = turn.heard.number
    pending = turn.data.get("pending")
    if isinstance(pending, dict) and number == len(ids) + 1:
        from flows.slips import take_up

        return take_up(turn, pending)
    current = {b.id: b for b in _current(turn)}
    if number is None:
        listed = [current[i] for i in ids if i in current]
        chosen = about_booking(turn, listed) if turn.heard.when or yes_or_no(turn) else None
        return ask_cancel(turn, chosen) if chosen else None
    if not 1 <= number <= len(ids):
        return None
    booking = current.get(ids[number - 1])
    if booking is None:
        return menu(turn, before=[Reply("cancel.not_found")])
    return ask_cancel(turn, booking)


def _cancel_answer(turn: Turn) -> bool | None:
    """Yes, or "oui annule" / "cancel it" (yes); no, "je garde", "non je viendrai" (no)."""
    heard = turn.heard
    answer = yes_or_no(turn)
    if answer is not None or heard.number is not None:
        return answer
    keeps = heard.has("intent.keep") or (heard.has("intent.no") and heard.intent == "coming")
    if keeps and not heard.has("intent.yes"):
        return False
    if heard.intent in ("cancel", "cant_come") and not heard.has("intent.no"):
        return True
    return None


def on_confirm_cancel(turn: Turn) -> Outcome | None:
    """Cancels on yes; keeps the booking on no."""
    answer = _cancel_answer(turn)
    if answer is None:
        return None
    if not answer:
        return menu(turn, "cancel.kept")
    booking_id = turn.data.get("booking")
    if not isinstance(booking_id, int):
        return None
    return Outcome(State.MENU, [Reply("cancel.done")], [CancelBooking(booking_id)])


def on_cancel_rejected(turn: Turn, rejected: Rejected) -> Outcome:
    """Explains why the cancellation was refused; back to the menu."""
    if rejected.reason == "too_late":
        phone = turn.data.get("phone") or turn.ctx.directory.help_contact(turn.who.id).phone
        return menu(turn, before=[Reply("cancel.too_late", {"phone": phone})])
    if rejected.reason == "not_found":
        return menu(turn, before=[Reply("cancel.not_found")])
    return menu(turn, before=[Reply("error.try_again")])
