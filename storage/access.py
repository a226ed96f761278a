"""Who may see and change a beneficiary: the one authorisation rule of every staff front-end
(staff API, `passnum staff …`, Telegram staff commands). See docs/security.md.

- An admin may act on everyone.
- An advisor may act on a person who has booked (at any time) a slot at one of the advisor's
  places, or whom the advisor registered (`Beneficiary.registered_by`).
- Anyone else is answered exactly as a person who does not exist ("no beneficiary N", 404),
  so that ids cannot be probed; the refusal is audited as `refused.not_authorised`.
- A walk-in at the desk (a person the advisor may not act on yet) is booked only with the
  booklet's number AND its verification code: the booklet is in front of the advisor. Five
  wrong codes in an hour stop the advisor's walk-in bookings for the rest of that hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select, union
from sqlmodel import Session

from storage.directory import booklet_holder
from storage.models import AuditEntry, Beneficiary, Booking, Slot
from storage.staff import StaffIdentity, StaffRefused, actor_of

__all__ = [
    "WALK_IN_TRIES",
    "WALK_IN_WINDOW",
    "BookletProof",
    "beneficiary_for_staff",
    "may_act_on",
    "person_to_book",
    "visible_ids",
]

WALK_IN_TRIES = 5
WALK_IN_WINDOW = timedelta(hours=1)
_WRONG_CODE = "wrong_code"  # the StaffRefused kind (and audit action) of a wrong walk-in code


@dataclass(frozen=True)
class BookletProof:
    """The booklet in front of the advisor. `{"number": "PN-0001", "code": "4821"}`"""

    number: str
    code: str


def visible_ids(staff: StaffIdentity) -> Select:  # type: ignore[type-arg]
    """The ids of the beneficiaries `staff` may see, as a subquery for lists and searches."""
    if staff.is_admin:
        return select(Beneficiary.id)
    booked_here = (
        select(Booking.beneficiary_id)
        .join(Slot, Slot.id == Booking.slot_id)  # type: ignore[arg-type]
        .where(Slot.place_id.in_(staff.place_ids))  # type: ignore[attr-defined]
    )
    registered = select(Beneficiary.id).where(_registered_by(staff))
    return select(union(booked_here, registered).subquery().c[0])


def may_act_on(session: Session, staff: StaffIdentity, beneficiary_id: int) -> bool:
    """The rule itself, for one person (who must exist)."""
    if staff.is_admin:
        return True
    booked_here = exists().where(
        Booking.beneficiary_id == beneficiary_id,
        Booking.slot_id == Slot.id,
        Slot.place_id.in_(staff.place_ids),  # type: ignore[attr-defined]
    )
    registered = exists().where(Beneficiary.id == beneficiary_id, _registered_by(staff))
    return bool(session.scalar(select(or_(booked_here, registered))))


def _registered_by(staff: StaffIdentity) -> ColumnElement[bool]:
    if staff.id is None:  # the bootstrap token and the shell are admins, never advisors
        return false()
    return Beneficiary.registered_by == staff.id  # type: ignore[return-value]


def beneficiary_for_staff(
    session: Session, staff: StaffIdentity, beneficiary_id: int
) -> Beneficiary:
    """The person, when `staff` may act on them; otherwise the same 404 as for nobody."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None or person.erased_at is not None:
        raise StaffRefused("not_found", f"no beneficiary {beneficiary_id}")
    if not may_act_on(session, staff, beneficiary_id):
        raise StaffRefused("not_authorised", f"no beneficiary {beneficiary_id}")
    return person


def person_to_book(
    session: Session,
    staff: StaffIdentity,
    *,
    beneficiary_id: int | None,
    proof: BookletProof | None,
    now: datetime,
) -> int:
    """Whom a booking on someone's behalf is for: a person `staff` may act on, or the holder
    of the booklet whose number and code are given (a walk-in)."""
    if proof is None:
        if beneficiary_id is None:
            raise StaffRefused("invalid", "give beneficiary_id, or booklet_number and code")
        return beneficiary_for_staff(session, staff, beneficiary_id).id or 0
    _walk_in_allowed(session, staff, now)
    holder = booklet_holder(session, proof.number, proof.code)
    if holder is None or (beneficiary_id is not None and holder.id != beneficiary_id):
        raise StaffRefused(_WRONG_CODE, "no booklet with this number and verification code")
    return holder.id or 0


def _walk_in_allowed(session: Session, staff: StaffIdentity, now: datetime) -> None:
    """A limit on wrong codes per staff member, so that codes cannot be guessed through us."""
    wrong = session.scalar(
        select(func.count()).where(
            AuditEntry.actor == actor_of(staff),
            AuditEntry.action == f"refused.{_WRONG_CODE}",
            AuditEntry.at >= now - WALK_IN_WINDOW,  # type: ignore[operator]
        )
    )
    if (wrong or 0) >= WALK_IN_TRIES:
        raise StaffRefused(
            "forbidden", f"{WALK_IN_TRIES} wrong booklet codes within the hour: try again later"
        )
