"""Booklet codes against guessing, and the holder told when their booklet changes hands.

The 5-failure lock of the conversation is per address: an attacker with many numbers (or
Telegram chats) is not slowed by it. So wrong codes are also counted on the booklet, whoever
types them: after `MAX_WRONG_CODES` the booklet is locked, even the right code is refused,
its holder is told (outbox) and the help inbox gets an entry, until staff unlock it
(`passnum staff unlock-booklet NUMBER`, or `POST /staff/booklets/{number}/unlock`). A right
code before the limit clears the count.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlmodel import Session

from config.catalogs import load_staff_texts
from storage.models import Beneficiary, Booklet
from storage.reminder_texts import (
    PERSON_COLUMNS,
    Person,
    catalog_renderer,
    enqueue_rows,
    reminder_row,
)
from storage.staff import StaffRefused

__all__ = [
    "MAX_WRONG_CODES",
    "check_booklet_code",
    "code_opens",
    "tell_previous_address",
    "unlock_booklet",
]

MAX_WRONG_CODES = 10
_ZONE = ZoneInfo("Europe/Paris")  # the texts hold no time; any zone renders them


def code_opens(booklet: Booklet, code: str) -> bool:
    """Whether `code` is the booklet's code, read as people type it: case and spaces aside
    ("qx7z 3k" opens "QX7Z3K"), compared in constant time."""
    typed = "".join(code.split()).casefold()
    return hmac.compare_digest(booklet.verification_code.strip().casefold(), typed)


def check_booklet_code(session: Session, *, booklet: Booklet, code: str, now: datetime) -> bool:
    """Whether `code` opens this booklet now; a wrong one is counted, the tenth locks it."""
    if booklet.locked_at is not None:
        return False
    if code_opens(booklet, code):
        if booklet.failed_codes:
            _set(session, booklet.id, failed_codes=0)
        return True
    failures = session.execute(
        update(Booklet)
        .where(Booklet.id == booklet.id)  # type: ignore[arg-type]
        .values(failed_codes=Booklet.failed_codes + 1)
        .returning(Booklet.failed_codes)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if failures == MAX_WRONG_CODES:  # exactly one transaction sees the tenth failure
        _set(session, booklet.id, locked_at=now)
        _tell_locked(session, booklet=booklet, now=now)
    return False


def _set(session: Session, booklet_id: int | None, **values: object) -> None:
    session.execute(
        update(Booklet)
        .where(Booklet.id == booklet_id)  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _person(session: Session, beneficiary_id: int) -> Person:
    row = session.execute(select(*PERSON_COLUMNS).where(Beneficiary.id == beneficiary_id)).one()
    return Person(*row)


def _tell_locked(session: Session, *, booklet: Booklet, now: datetime) -> None:
    """The holder by SMS or Telegram (outbox), the staff by a help-inbox entry."""
    from storage.identity import leave_help_request

    holder = _person(session, booklet.beneficiary_id)
    row = reminder_row(
        holder,
        key="booklet.locked",
        params={},
        dedupe_key=f"booklet-locked:{booklet.id}:{now:%Y%m%dT%H%M%S}",
        send_at=now,
        not_after=None,
        render=catalog_renderer(_ZONE),
        two_way=True,
    )
    enqueue_rows(session, [row], now=now)
    text = load_staff_texts()["fr"]["staff.booklet_locked"].format(
        number=booklet.number, failures=MAX_WRONG_CODES
    )
    leave_help_request(
        session,
        beneficiary_id=holder.id,
        channel=row["channel"] if row else "sms",
        address=row["address"] if row else "",
        text=text,
        now=now,
    )


def tell_previous_address(
    session: Session, *, beneficiary_id: int, channel: str, address: str, now: datetime
) -> None:
    """The address a booklet just left is told, in case the move was not its holder's doing."""
    holder = _person(session, beneficiary_id)
    render = catalog_renderer(_ZONE)
    rendered = render(channel, holder.language, "booklet.moved", {})
    if rendered is None:
        return
    body, segments = rendered
    enqueue_rows(
        session,
        [
            {
                "channel": channel,
                "address": address,
                "body": body,
                "segments": segments,
                "beneficiary_id": beneficiary_id,
                "dedupe_key": f"booklet-moved:{beneficiary_id}:{now:%Y%m%dT%H%M%S%f}",
            }
        ],
        now=now,
    )


def unlock_booklet(session: Session, *, number: str) -> tuple[Booklet, bool]:
    """The booklet accepts codes again, its failure count back to zero; also says whether it
    was locked. Who may do it (admins) is the staff handler's rule (`bot.staff.people`)."""
    wanted = number.strip().upper()
    booklet = session.scalar(select(Booklet).where(func.upper(Booklet.number) == wanted))
    if booklet is None:
        raise StaffRefused("not_found", f"no booklet {wanted}")
    was_locked = booklet.locked_at is not None
    booklet.locked_at, booklet.failed_codes = None, 0
    session.flush()
    return booklet, was_locked
