"""The handlers of broadcasts, the help inbox, statistics, the audit log and places — once, on
SQLite and PostgreSQL, through the real wiring (`build_staff_service`) and a fixed clock. The
front-ends (staff API, console, CLI, Telegram) keep a thin test each elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.bootstrap import build_staff_service
from bot.staff import StaffService
from bot.staff.bookings import BookOnBehalf, MarkAttendance
from bot.staff.broadcasts import (
    ApproveBroadcast,
    BroadcastReport,
    CancelBroadcast,
    ConfirmBroadcast,
    CreateBroadcast,
    ListBroadcasts,
    PreviewBroadcast,
    SendBroadcast,
)
from bot.staff.help import AnswerHelpRequest, HelpRequests
from bot.staff.places import ImportPlaces, ListPlaces
from bot.staff.stats import AuditLog, Statistics, StatisticsOverview
from config import load_settings
from flows.gsm7 import sms_segments, to_gsm7
from storage.db import unit_of_work
from storage.models import AuditEntry, HelpRequest, OutboundMessage
from storage.staff import CLI_ADMIN, StaffIdentity, StaffRefused, create_staff, identity_of
from tests import factories
from tests.staff.helpers import add_people

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Paris: not quiet
NADIA = StaffIdentity(id=41, name="Nadia", role="advisor", place_ids=(99,))
MESSAGE = "Atelier « e-mail » jeudi à la médiathèque : réservez en répondant MENU."


def _service(engine: Engine, threshold: int = 1_000_000) -> StaffService:
    settings = load_settings(broadcast_approval_threshold=threshold, sms_price_eur=0.07)
    return build_staff_service(engine, settings, clock=lambda: AT)


def _count(engine: Engine, *where) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(OutboundMessage).where(*where)))


def _actions(engine: Engine) -> list[tuple[str, str, str | None]]:
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.record).order_by(AuditEntry.id)
        )
        return [(actor, action, record) for actor, action, record in rows]


def test_the_preview_counts_channels_segments_cost_and_the_quiet_hours(engine: Engine) -> None:
    add_people(engine, 7)
    service = _service(engine)
    seen = service.handle(CLI_ADMIN, PreviewBroadcast(segment="commune:38057", message=MESSAGE))
    sms = to_gsm7(MESSAGE)
    assert (seen.recipients, seen.by_channel) == (7, {"sms": 7, "telegram": 0})
    assert seen.sms_text == sms and seen.sms_segments == sms_segments(sms) == 1
    assert seen.characters == len(sms) and seen.telegram_text == MESSAGE
    assert seen.estimated_cost_eur == 0.49 and seen.quiet_until is None
    tonight = service.handle(
        CLI_ADMIN,
        PreviewBroadcast(segment="all", message="Bonjour", send_at=datetime(2026, 12, 2, 22, 0)),
    )  # 22:00 local (no offset): quiet until 08:00 the next morning, local time
    assert tonight.quiet_until == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    assert _actions(engine) == [] and _count(engine) == 0  # a preview stores nothing


def test_a_large_segment_is_queued_whole_without_opted_out_people(engine: Engine) -> None:
    # The 100,000-recipient timing is measured by `passnum bench`, not here.
    add_people(engine, 20_000, opted_out_every=100)
    sent = _service(engine).handle(CLI_ADMIN, SendBroadcast(segment="all", message="Bonjour"))
    assert (sent.status, sent.recipients, sent.counts) == ("queued", 19_800, {"queued": 19_800})
    assert _count(engine, OutboundMessage.broadcast_id == sent.id) == 19_800
    assert [action for _, action, _ in _actions(engine)] == [
        "broadcast.create",
        "broadcast.confirm",
    ]


def test_above_the_threshold_it_waits_once_and_someone_else_approves(engine: Engine) -> None:
    add_people(engine, 5)
    service = _service(engine, threshold=3)
    draft = service.handle(CLI_ADMIN, CreateBroadcast(segment="commune:38057", message="Bonjour"))
    assert draft.preview.needs_approval and draft.broadcast.status == "draft"
    broadcast_id = draft.broadcast.id
    held = service.handle(CLI_ADMIN, ConfirmBroadcast(broadcast_id=broadcast_id))
    assert held.status == "pending_approval" and _count(engine) == 0
    with pytest.raises(StaffRefused) as again:
        service.handle(CLI_ADMIN, ConfirmBroadcast(broadcast_id=broadcast_id))
    assert again.value.kind == "conflict"
    with pytest.raises(StaffRefused, match="someone else than its author"):
        service.handle(CLI_ADMIN, ApproveBroadcast(broadcast_id=broadcast_id))
    nadia = _member(engine)
    approved = service.handle(nadia, ApproveBroadcast(broadcast_id=broadcast_id))
    assert (approved.status, approved.approved_by, approved.counts) == (
        "queued",
        nadia.id,
        {"queued": 5},
    )
    cancelled = service.handle(CLI_ADMIN, CancelBroadcast(broadcast_id=broadcast_id))
    assert cancelled.messages_stopped == 5 and cancelled.report.finished
    assert cancelled.report.counts == {"cancelled": 5}
    assert [action for _, action, _ in _actions(engine)] == [
        "broadcast.create",
        "broadcast.confirm",
        "refused.conflict",
        "refused.forbidden",
        "broadcast.approve",
        "broadcast.cancel",
    ]


def _member(engine: Engine, role: str = "admin", places: list[int] | None = None) -> StaffIdentity:
    """A staff member whose account is a month old (the two-person rule lets them approve)."""
    with unit_of_work(engine) as session:
        member, _ = create_staff(
            session, name="Nadia", role=role, place_ids=places or [], now=AT - timedelta(days=30)
        )
        session.commit()
        return identity_of(member)


def test_an_advisor_broadcasts_only_to_their_places_and_sees_only_those(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        mine, other = factories.place(session), factories.place(session)
        session.commit()
    advisor = _member(engine, "advisor", [mine.id or 0])
    service = _service(engine)
    with pytest.raises(StaffRefused, match="slot:/place: segments") as everyone:
        service.handle(advisor, PreviewBroadcast(segment="all", message="Bonjour"), origin="x")
    assert everyone.value.kind == "forbidden"
    with pytest.raises(StaffRefused, match="not one of yours"):
        service.handle(advisor, PreviewBroadcast(segment=f"place:{other.id}", message="Bonjour"))
    theirs = service.handle(advisor, SendBroadcast(segment=f"place:{mine.id}", message="Bonjour"))
    admins = service.handle(CLI_ADMIN, SendBroadcast(segment=f"place:{other.id}", message="Hé"))
    assert [r.id for r in service.handle(advisor, ListBroadcasts())] == [theirs.id]
    assert [r.id for r in service.handle(CLI_ADMIN, ListBroadcasts())] == [admins.id, theirs.id]
    with pytest.raises(StaffRefused) as hidden:
        service.handle(advisor, BroadcastReport(broadcast_id=admins.id))
    assert hidden.value.kind == "forbidden"
    with pytest.raises(StaffRefused) as missing:
        service.handle(advisor, CancelBroadcast(broadcast_id=999))
    assert missing.value.kind == "not_found"
    refusals = [(a, r) for _, a, r in _actions(engine) if a.startswith("refused.")]
    assert refusals[0] == ("refused.forbidden", "x")


def _help_request(engine: Engine, *, beneficiary: bool) -> int:
    with unit_of_work(engine) as session:
        person = factories.beneficiary(session, phone="+33611111113") if beneficiary else None
        request = HelpRequest(
            beneficiary_id=person.id if person else None,
            channel="sms",
            address="+33611111113" if person else "+33799999999",
            text="Je ne trouve plus mon chéquier",
            created_at=AT,
        )
        session.add(request)
        session.commit()
        return request.id or 0


def test_a_help_answer_goes_out_in_gsm7_once_and_leaves_the_inbox(engine: Engine) -> None:
    request_id = _help_request(engine, beneficiary=True)
    service = _service(engine)
    assert [r.id for r in service.handle(CLI_ADMIN, HelpRequests()).waiting] == [request_id]
    answer = AnswerHelpRequest(request_id=request_id, text=" Passez à l’accueil mardi. ")
    answered = service.handle(CLI_ADMIN, answer)
    assert answered.answer == "Passez à l’accueil mardi." and answered.answered_at is not None
    with unit_of_work(engine) as session:
        [(body, segments)] = session.execute(select(OutboundMessage.body, OutboundMessage.segments))
    assert (body, segments) == ("Passez à l'accueil mardi.", 1)
    with pytest.raises(StaffRefused, match="already answered"):
        service.handle(CLI_ADMIN, answer)
    inbox = service.handle(CLI_ADMIN, HelpRequests())
    assert inbox.waiting == [] and [r.id for r in inbox.answered] == [request_id]
    assert ("cli", "help.answer", f"help:{request_id}") in _actions(engine)


def test_an_advisor_neither_sees_nor_answers_someone_elses_request(engine: Engine) -> None:
    stranger = _help_request(engine, beneficiary=False)
    service = _service(engine)
    assert service.handle(NADIA, HelpRequests()).waiting == []
    with pytest.raises(StaffRefused, match="only an admin may answer an unknown sender"):
        service.handle(NADIA, AnswerHelpRequest(request_id=stranger, text="Bonjour"))
    assert _count(engine) == 0


def test_statistics_by_place_and_month_advisors_see_their_places_only(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        place = factories.place(session)
        slot = factories.slot(session, place_id=place.id or 0, starts_at=AT + timedelta(days=1))
        person = factories.beneficiary(session, vouchers=3, phone="+33611111114")
        session.add(
            OutboundMessage(
                channel="sms",
                address="+33611111114",
                body="x",
                segments=2,
                status="delivered",
                next_attempt_at=AT,
                created_at=AT,
                updated_at=AT,
            )
        )
        session.commit()
    consuming = load_settings(no_show_policy="consume")
    desk = build_staff_service(engine, consuming, clock=lambda: AT)
    booking = desk.handle(CLI_ADMIN, BookOnBehalf(slot_id=slot.id or 0, beneficiary_id=person.id))
    desk.handle(CLI_ADMIN, MarkAttendance(booking_id=booking.id, attended=False))
    service = _service(engine)
    stats = service.handle(CLI_ADMIN, Statistics())
    advisor = StaffIdentity(id=9, name="N", role="advisor", place_ids=(place.id or 0,))
    theirs = service.handle(advisor, Statistics())
    assert stats.totals["vouchers_issued"] == 3 and stats.totals["vouchers_redeemed"] == 1
    assert stats.totals["no_shows"] == 1 and stats.totals["messages_cost_eur"] == 0.14
    assert stats.bookings[0]["month"] == f"{slot.starts_at:%Y-%m}"
    assert theirs.bookings == stats.bookings and theirs.messages == theirs.vouchers == []
    overview = service.handle(CLI_ADMIN, StatisticsOverview())
    month = overview.months[f"{slot.starts_at:%Y-%m}"]
    assert (month["no_show"], month["no_show_rate"]) == (1, 100.0)
    assert overview.places == [(place.name, 0)] and overview.sms[0]["segments"] == 2
    assert sum(week["no_show"] for week in overview.weeks) == 1
    views = [actor for actor, action, _ in _actions(engine) if action == "stats.view"]
    assert views == ["cli", "staff:9:N", "cli"]


def test_the_audit_log_and_the_places_import_are_for_admins(engine: Engine) -> None:
    service = _service(engine)
    header = "id,nom,adresse,code_postal,commune,latitude,longitude"
    lines = (header, "p-1,Médiathèque,1 rue Haute,38000,Grenoble,45.19,5.72", "p-2,,,,,,")
    with pytest.raises(StaffRefused) as refused:
        service.handle(NADIA, ImportPlaces(lines=lines))
    assert refused.value.kind == "forbidden"
    report = service.handle(CLI_ADMIN, ImportPlaces(lines=lines))
    assert report.errors and [p.name for p in service.handle(CLI_ADMIN, ListPlaces())] == [
        "Médiathèque"
    ]
    assert service.handle(NADIA, ListPlaces()) == []
    with pytest.raises(StaffRefused, match="only an admin may read the audit log"):
        service.handle(NADIA, AuditLog())
    entries = service.handle(CLI_ADMIN, AuditLog(limit=2))
    assert [e.action for e in entries] == ["refused.forbidden", "places.import"]
    older = service.handle(CLI_ADMIN, AuditLog(before_id=entries[-1].id))
    assert [e.action for e in older] == ["refused.forbidden"]
