"""The staff API under /staff/ (bearer token). Every refusal and every action is audited."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, tzinfo
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlmodel import Session

from config import Settings
from storage.beneficiaries_admin import (
    answer_help_request,
    beneficiary_file,
    change_phone,
    issue_link,
    register_beneficiary,
)
from storage.broadcasts import (
    Report,
    approve_broadcast,
    broadcast_report,
    cancel_broadcast,
    confirm_broadcast,
    create_broadcast,
    list_broadcasts,
    preview,
)
from storage.db import unit_of_work
from storage.models import Slot as SlotRow
from storage.slots_admin import (
    book_for,
    cancel_slot,
    change_slot,
    create_slot,
    list_slots,
    mark_attendance,
    slot_attendees,
)
from storage.staff import (
    StaffIdentity,
    StaffRefused,
    actor_of,
    audit,
    authenticate_token,
    create_staff,
    issue_staff_link,
    open_help_requests,
)
from storage.stats import Stats, staff_stats, stats_csv

__all__ = ["router", "current_staff"]

log = logging.getLogger(__name__)
router = APIRouter(prefix="/staff", tags=["staff"])
bearer = HTTPBearer(auto_error=False)


def current_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffIdentity:
    """The staff member behind the bearer token; 401 (audited) otherwise."""
    services = request.app.state.services
    token = credentials.credentials if credentials else ""
    bootstrap = services.settings.staff_token
    identity: StaffIdentity | None = None
    with unit_of_work(services.engine) as session:
        if bootstrap and token and hmac.compare_digest(token.encode(), bootstrap.encode()):
            identity = StaffIdentity(id=None, name="bootstrap-admin", role="admin", place_ids=())
        elif token:
            identity = authenticate_token(session, token=token)
        if identity is None:
            audit(
                session,
                actor="anonymous",
                action="staff_auth_refused",
                record=request.url.path,
                detail="no token" if not token else "wrong token",
                now=datetime.now(UTC),
            )
            session.commit()
            raise HTTPException(
                401,
                "a valid staff bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
    return identity


Staff = Annotated[StaffIdentity, Depends(current_staff)]


class HelpRequestOut(BaseModel):
    id: int
    beneficiary_id: int | None
    channel: str
    text: str
    created_at: datetime


@router.get("/help-requests", response_model=list[HelpRequestOut])
def list_help_requests(request: Request, staff: Staff) -> list[HelpRequestOut]:
    """Messages left by beneficiaries through the help flow, not yet answered."""
    with unit_of_work(request.app.state.services.engine) as session:
        rows = open_help_requests(session, staff=staff)
        return [HelpRequestOut.model_validate(row, from_attributes=True) for row in rows]


# ---- plumbing: one transaction per action; refusals are audited and become HTTP errors ----

T = TypeVar("T")
_STATUS = {"forbidden": 403, "not_found": 404, "invalid": 422, "conflict": 409}


def _now() -> datetime:
    return datetime.now(UTC)


def _act(request: Request, staff: StaffIdentity, work: Callable[[Session], T]) -> T:
    """Run `work` in one unit of work; a StaffRefused is audited, then answered 403/404/…"""
    engine = request.app.state.services.engine
    try:
        with unit_of_work(engine) as session:
            result = work(session)
            session.commit()
            return result
    except StaffRefused as refused:
        with unit_of_work(engine) as session:
            audit(
                session,
                actor=actor_of(staff),
                action=f"refused.{refused.kind}",
                record=f"{request.method} {request.url.path}",
                detail=refused.message,
                now=_now(),
            )
            session.commit()
        raise HTTPException(_STATUS[refused.kind], refused.message) from None


def _settings(request: Request) -> Settings:
    return request.app.state.services.settings  # type: ignore[no-any-return]


def _local(moment: datetime | None, settings: Settings) -> datetime | None:
    """Times without an offset are Europe/Paris (the configured zone), like the CSV imports."""
    return None if moment is None else _aware(moment, settings.tz)


def _aware(moment: datetime, tz: tzinfo) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _bot_username(request: Request) -> str:
    application = request.app.state.services.telegram
    try:
        return str(application.bot.username)
    except Exception:  # not started or no token: the usual name
        return "passnum_bot"


# ---- staff members ----


class StaffOut(BaseModel):
    id: int | None
    name: str
    role: str
    place_ids: list[int]


class StaffCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "advisor"] = "advisor"
    place_ids: list[int] = []


class StaffCreated(StaffOut):
    token: str = Field(description="the API token: shown once, stored hashed")


class LinkOut(BaseModel):
    link: str


@router.get("/me", response_model=StaffOut)
def whoami(staff: Staff) -> StaffOut:
    """Who the bearer token belongs to."""
    return StaffOut(id=staff.id, name=staff.name, role=staff.role, place_ids=list(staff.place_ids))


def _admin_only(staff: StaffIdentity, what: str) -> None:
    if not staff.is_admin:
        raise StaffRefused("forbidden", f"only an admin may {what}")


@router.post("/members", response_model=StaffCreated, status_code=201)
def add_member(body: StaffCreate, request: Request, staff: Staff) -> StaffCreated:
    """Create a staff member (admins only); the answer holds their token, once."""

    def work(session: Session) -> StaffCreated:
        _admin_only(staff, "add staff members")
        member, token = create_staff(
            session, name=body.name, role=body.role, place_ids=body.place_ids, now=_now()
        )
        audit(
            session,
            actor=actor_of(staff),
            action="staff.create",
            record=f"staff:{member.id}",
            now=_now(),
            detail=f"{body.role} places {body.place_ids}",
        )
        return StaffCreated(
            id=member.id, name=member.name, role=member.role, place_ids=body.place_ids, token=token
        )

    return _act(request, staff, work)


@router.post("/members/{staff_id}/telegram-link", response_model=LinkOut)
def member_telegram_link(staff_id: int, request: Request, staff: Staff) -> LinkOut:
    """A one-time link that makes the Telegram chat opening it this staff member's."""

    def work(session: Session) -> LinkOut:
        if not staff.is_admin and staff.id != staff_id:
            raise StaffRefused("forbidden", "only an admin may link another staff member")
        token = issue_staff_link(session, staff_id=staff_id, by=staff, now=_now())
        return LinkOut(link=f"https://t.me/{_bot_username(request)}?start={token}")

    return _act(request, staff, work)


# ---- help inbox ----


class AnswerIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class AnswerOut(BaseModel):
    id: int
    answer: str
    answered_at: datetime


@router.post("/help-requests/{request_id}/answer", response_model=AnswerOut)
def answer_help(request_id: int, body: AnswerIn, request: Request, staff: Staff) -> AnswerOut:
    """Answer a help message: it goes to the person on their channel, through the outbox."""

    def work(session: Session) -> AnswerOut:
        row = answer_help_request(
            session, staff=staff, request_id=request_id, text=body.text, now=_now()
        )
        return AnswerOut(id=request_id, answer=row.answer or "", answered_at=row.answered_at)

    return _act(request, staff, work)


# ---- broadcasts: preview, draft, confirm, approve, cancel, report ----


class BroadcastIn(BaseModel):
    segment: str = Field(examples=["unused", "slot:12", "commune:Échirolles"])
    message: str = Field(min_length=1, max_length=1600)
    language: Literal["fr", "en"] | None = Field(None, description="only people of this language")
    send_at: datetime | None = Field(None, description="ISO 8601; local time without an offset")


class PreviewOut(BaseModel):
    segment: str
    language: str | None
    recipients: int
    by_channel: dict[str, int]
    sms_text: str
    sms_segments: int
    telegram_text: str
    estimated_cost_eur: float
    needs_approval: bool


class ReportOut(BaseModel):
    id: int
    segment: str
    message: str
    language: str | None
    status: str
    send_at: datetime | None
    created_by: int | None
    approved_by: int | None
    recipients: int
    counts: dict[str, int]
    finished: bool


class DraftOut(BaseModel):
    broadcast: ReportOut
    preview: PreviewOut


def _report_out(report: Report) -> ReportOut:
    return ReportOut(**asdict(report), finished=report.finished)


def _preview_args(body: BroadcastIn, request: Request, staff: StaffIdentity) -> dict[str, Any]:
    settings = _settings(request)
    return {
        "staff": staff,
        "segment": body.segment,
        "message": body.message,
        "language": body.language,
        "now": _now(),
        "price_eur": settings.sms_price_eur,
        "threshold": settings.broadcast_approval_threshold,
    }


@router.post("/broadcasts/preview", response_model=PreviewOut)
def preview_broadcast(body: BroadcastIn, request: Request, staff: Staff) -> PreviewOut:
    """Recipients by channel, the SMS after transliteration, its segments and estimated cost."""

    def work(session: Session) -> PreviewOut:
        return PreviewOut(**asdict(preview(session, **_preview_args(body, request, staff))))

    return _act(request, staff, work)


@router.post("/broadcasts", response_model=DraftOut, status_code=201)
def create_draft(body: BroadcastIn, request: Request, staff: Staff) -> DraftOut:
    """Compose a broadcast: a draft with its preview. Nothing is sent before confirm."""

    def work(session: Session) -> DraftOut:
        args = _preview_args(body, request, staff)
        draft, seen = create_broadcast(
            session, **args, send_at=_local(body.send_at, _settings(request))
        )
        report = broadcast_report(session, staff=staff, broadcast_id=draft.id or 0)
        return DraftOut(broadcast=_report_out(report), preview=PreviewOut(**asdict(seen)))

    return _act(request, staff, work)


@router.get("/broadcasts", response_model=list[ReportOut])
def broadcasts(request: Request, staff: Staff) -> list[ReportOut]:
    """The latest broadcasts you may see, with their delivery counts."""

    def work(session: Session) -> list[ReportOut]:
        return [
            _report_out(broadcast_report(session, staff=staff, broadcast_id=row.id or 0))
            for row in list_broadcasts(session, staff=staff)
        ]

    return _act(request, staff, work)


@router.get("/broadcasts/{broadcast_id}", response_model=ReportOut)
def broadcast_status(broadcast_id: int, request: Request, staff: Staff) -> ReportOut:
    """Delivery report: outbox rows of the broadcast by status (queued, sent, delivered…)."""
    return _act(
        request,
        staff,
        lambda session: _report_out(
            broadcast_report(session, staff=staff, broadcast_id=broadcast_id)
        ),
    )


def _then_report(
    staff: StaffIdentity, broadcast_id: int, change: Callable[[Session], object]
) -> Callable[[Session], ReportOut]:
    def work(session: Session) -> ReportOut:
        change(session)
        return _report_out(broadcast_report(session, staff=staff, broadcast_id=broadcast_id))

    return work


@router.post("/broadcasts/{broadcast_id}/confirm", response_model=ReportOut)
def confirm(broadcast_id: int, request: Request, staff: Staff) -> ReportOut:
    """Queue the draft, or hold it for a second staff member's approval above the threshold."""
    threshold = _settings(request).broadcast_approval_threshold
    return _act(
        request,
        staff,
        _then_report(
            staff,
            broadcast_id,
            lambda s: confirm_broadcast(
                s, staff=staff, broadcast_id=broadcast_id, now=_now(), threshold=threshold
            ),
        ),
    )


@router.post("/broadcasts/{broadcast_id}/approve", response_model=ReportOut)
def approve(broadcast_id: int, request: Request, staff: Staff) -> ReportOut:
    """Approve a large broadcast (someone else than its author): it is queued."""
    return _act(
        request,
        staff,
        _then_report(
            staff,
            broadcast_id,
            lambda s: approve_broadcast(s, staff=staff, broadcast_id=broadcast_id, now=_now()),
        ),
    )


@router.post("/broadcasts/{broadcast_id}/cancel", response_model=ReportOut)
def cancel(broadcast_id: int, request: Request, staff: Staff) -> ReportOut:
    """Cancel a draft, scheduled or running broadcast; messages not yet sent are cancelled."""
    return _act(
        request,
        staff,
        _then_report(
            staff,
            broadcast_id,
            lambda s: cancel_broadcast(s, staff=staff, broadcast_id=broadcast_id, now=_now()),
        ),
    )


# ---- slots, bookings and attendance ----


class SlotIn(BaseModel):
    place_id: int
    topic: str = Field(examples=["email"])
    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(ge=1, le=500)
    title: str | None = None
    language: Literal["fr", "en"] = "fr"


class SlotChange(BaseModel):
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    capacity: int | None = Field(None, ge=1, le=500)


class SlotOut(BaseModel):
    id: int
    place_id: int
    topic: str
    title: str | None
    language: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    cancelled: bool


class CancelOut(BaseModel):
    slot: SlotOut
    notified: int = Field(description="messages queued to the people who were booked")


class BookingIn(BaseModel):
    beneficiary_id: int


class BookingOut(BaseModel):
    id: int
    slot_id: int
    beneficiary_id: int
    status: str


class AttendeeOut(BaseModel):
    booking_id: int
    beneficiary_id: int
    first_name: str
    status: str


class AttendanceIn(BaseModel):
    attended: bool = Field(description="true: attended (voucher redeemed); false: no-show")


def _slot_out(slot: Any) -> SlotOut:
    return SlotOut.model_validate(slot, from_attributes=True)


def _booking_out(booking: Any) -> BookingOut:
    return BookingOut.model_validate(booking, from_attributes=True)


@router.get("/slots", response_model=list[SlotOut])
def slots(request: Request, staff: Staff, place_id: int | None = None) -> list[SlotOut]:
    """Upcoming slots of your places (or of one place)."""
    return _act(
        request,
        staff,
        lambda s: [
            _slot_out(row) for row in list_slots(s, staff=staff, after=_now(), place_id=place_id)
        ],
    )


@router.post("/slots", response_model=SlotOut, status_code=201)
def new_slot(body: SlotIn, request: Request, staff: Staff) -> SlotOut:
    """Create a session at one of your places."""
    tz = _settings(request).tz
    return _act(
        request,
        staff,
        lambda s: _slot_out(
            create_slot(
                s,
                staff=staff,
                place_id=body.place_id,
                topic=body.topic,
                title=body.title,
                starts_at=_aware(body.starts_at, tz),
                ends_at=_aware(body.ends_at, tz),
                capacity=body.capacity,
                language=body.language,
                now=_now(),
            )
        ),
    )


@router.patch("/slots/{slot_id}", response_model=SlotOut)
def edit_slot(slot_id: int, body: SlotChange, request: Request, staff: Staff) -> SlotOut:
    """Change the time and/or capacity; booked people are told when the time moves."""
    settings = _settings(request)
    return _act(
        request,
        staff,
        lambda s: _slot_out(
            change_slot(
                s,
                staff=staff,
                slot_id=slot_id,
                now=_now(),
                tz=settings.tz,
                two_way=settings.sms_two_way,
                starts_at=_local(body.starts_at, settings),
                ends_at=_local(body.ends_at, settings),
                capacity=body.capacity,
            )
        ),
    )


@router.post("/slots/{slot_id}/cancel", response_model=CancelOut)
def drop_slot(slot_id: int, request: Request, staff: Staff) -> CancelOut:
    """Cancel the slot: vouchers go back and the booked people are told."""
    settings = _settings(request)

    def work(session: Session) -> CancelOut:
        told = cancel_slot(
            session,
            staff=staff,
            slot_id=slot_id,
            now=_now(),
            tz=settings.tz,
            two_way=settings.sms_two_way,
        )
        return CancelOut(slot=_slot_out(session.get(SlotRow, slot_id)), notified=told)

    return _act(request, staff, work)


@router.get("/slots/{slot_id}/bookings", response_model=list[AttendeeOut])
def attendees(slot_id: int, request: Request, staff: Staff) -> list[AttendeeOut]:
    """Who is booked on the slot, for the attendance sheet."""
    return _act(
        request,
        staff,
        lambda s: [
            AttendeeOut(**asdict(row)) for row in slot_attendees(s, staff=staff, slot_id=slot_id)
        ],
    )


@router.post("/slots/{slot_id}/bookings", response_model=BookingOut, status_code=201)
def book(slot_id: int, body: BookingIn, request: Request, staff: Staff) -> BookingOut:
    """Book a seat on behalf of a beneficiary (one voucher is reserved)."""
    return _act(
        request,
        staff,
        lambda s: _booking_out(
            book_for(
                s, staff=staff, slot_id=slot_id, beneficiary_id=body.beneficiary_id, now=_now()
            )
        ),
    )


@router.post("/bookings/{booking_id}/attendance", response_model=BookingOut)
def attendance(booking_id: int, body: AttendanceIn, request: Request, staff: Staff) -> BookingOut:
    """Attended redeems the voucher; a no-show follows PASSNUM_NO_SHOW_POLICY."""
    policy = _settings(request).no_show_policy
    return _act(
        request,
        staff,
        lambda s: _booking_out(
            mark_attendance(
                s,
                staff=staff,
                booking_id=booking_id,
                attended=body.attended,
                no_show_policy=policy,
                now=_now(),
            )
        ),
    )


# ---- beneficiaries ----


class BeneficiaryIn(BaseModel):
    first_name: str = Field(min_length=1, max_length=100)
    phone: str = Field(examples=["06 12 34 56 78"])
    booklet_number: str = Field(min_length=1, max_length=32)
    vouchers: int = Field(ge=1, le=20)
    expires_on: date
    verification_code: str = Field(min_length=1, max_length=16)
    language: Literal["fr", "en"] = "fr"
    commune: str | None = Field(None, description="name, postcode or INSEE code")


class PhoneIn(BaseModel):
    phone: str


class BeneficiaryOut(BaseModel):
    id: int
    first_name: str
    phone: str | None
    telegram_linked: bool
    language: str
    commune_insee: str | None
    opted_out: bool
    reminders_enabled: bool


class BeneficiaryFileOut(BaseModel):
    beneficiary: BeneficiaryOut
    booklets: list[str]
    bookings: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def _person_out(person: Any) -> BeneficiaryOut:
    return BeneficiaryOut.model_validate(
        {**person.model_dump(), "telegram_linked": person.telegram_chat_id is not None}
    )


@router.post("/beneficiaries", response_model=BeneficiaryOut, status_code=201)
def register(body: BeneficiaryIn, request: Request, staff: Staff) -> BeneficiaryOut:
    """Register a beneficiary with a new booklet and its vouchers."""
    return _act(
        request,
        staff,
        lambda s: _person_out(
            register_beneficiary(s, staff=staff, **body.model_dump(), now=_now())
        ),
    )


@router.get("/beneficiaries/{beneficiary_id}", response_model=BeneficiaryFileOut)
def beneficiary(beneficiary_id: int, request: Request, staff: Staff) -> BeneficiaryFileOut:
    """A beneficiary's record, booklets, bookings and latest messages."""

    def work(session: Session) -> BeneficiaryFileOut:
        found = beneficiary_file(session, staff=staff, beneficiary_id=beneficiary_id, now=_now())
        return BeneficiaryFileOut(
            beneficiary=_person_out(found.person),
            booklets=found.booklets,
            bookings=found.bookings,
            messages=found.messages,
        )

    return _act(request, staff, work)


@router.put("/beneficiaries/{beneficiary_id}/phone", response_model=BeneficiaryOut)
def new_phone(beneficiary_id: int, body: PhoneIn, request: Request, staff: Staff) -> BeneficiaryOut:
    """Change the phone number (normalised to E.164)."""
    return _act(
        request,
        staff,
        lambda s: _person_out(
            change_phone(
                s, staff=staff, beneficiary_id=beneficiary_id, phone=body.phone, now=_now()
            )
        ),
    )


@router.post("/beneficiaries/{beneficiary_id}/telegram-link", response_model=LinkOut)
def beneficiary_link(beneficiary_id: int, request: Request, staff: Staff) -> LinkOut:
    """A Telegram deep link that links the chat opening it to this beneficiary."""
    bot = _bot_username(request)
    return _act(
        request,
        staff,
        lambda s: LinkOut(
            link=issue_link(
                s, staff=staff, beneficiary_id=beneficiary_id, now=_now(), bot_username=bot
            )
        ),
    )


# ---- statistics ----


class StatsOut(BaseModel):
    totals: dict[str, float]
    vouchers: list[dict[str, Any]]
    bookings: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def _stats(request: Request, staff: StaffIdentity) -> Stats:
    price = _settings(request).sms_price_eur

    def work(session: Session) -> Stats:
        audit(session, actor=actor_of(staff), action="stats.view", record=None, now=_now())
        return staff_stats(session, staff=staff, price_eur=price)

    return _act(request, staff, work)


@router.get("/stats", response_model=StatsOut)
def stats(request: Request, staff: Staff) -> StatsOut:
    """Vouchers, bookings, no-shows, messages and their cost, by month and place."""
    return StatsOut(**asdict(_stats(request, staff)))


@router.get(
    "/stats.csv", response_class=PlainTextResponse, responses={200: {"content": {"text/csv": {}}}}
)
def stats_as_csv(request: Request, staff: Staff) -> PlainTextResponse:
    """The same numbers as CSV: section, month, place, channel, metric, value."""
    return PlainTextResponse(
        stats_csv(_stats(request, staff)),
        media_type="text/csv",
        headers={"Content-Disposition": "attachment; filename=stats.csv"},
    )
