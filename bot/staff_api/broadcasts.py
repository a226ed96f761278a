"""Broadcasts: preview, draft, confirm, approve, cancel and delivery report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from bot.staff_api.auth import Staff
from bot.staff_api.plumbing import RecordId, act, local, now, settings_of
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
from storage.staff import StaffIdentity

__all__ = ["BroadcastIn", "DraftOut", "PreviewOut", "ReportOut", "router"]

router = APIRouter()


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
    reach_24h: int = Field(
        description="people reached with the overlapping broadcasts of the last 24 h: "
        "what the approval threshold is compared with"
    )


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
    settings = settings_of(request)
    return {
        "staff": staff,
        "segment": body.segment,
        "message": body.message,
        "language": body.language,
        "now": now(),
        "price_eur": settings.sms_price_eur,
        "threshold": settings.broadcast_approval_threshold,
    }


@router.post("/broadcasts/preview", response_model=PreviewOut)
def preview_broadcast(body: BroadcastIn, request: Request, staff: Staff) -> PreviewOut:
    """Recipients by channel, the SMS after transliteration, its segments and estimated cost."""

    def work(session: Session) -> PreviewOut:
        return PreviewOut(**asdict(preview(session, **_preview_args(body, request, staff))))

    return act(request, staff, work)


@router.post("/broadcasts", response_model=DraftOut, status_code=201)
def create_draft(body: BroadcastIn, request: Request, staff: Staff) -> DraftOut:
    """Compose a broadcast: a draft with its preview. Nothing is sent before confirm."""

    def work(session: Session) -> DraftOut:
        args = _preview_args(body, request, staff)
        draft, seen = create_broadcast(
            session, **args, send_at=local(body.send_at, settings_of(request))
        )
        report = broadcast_report(session, staff=staff, broadcast_id=draft.id or 0)
        return DraftOut(broadcast=_report_out(report), preview=PreviewOut(**asdict(seen)))

    return act(request, staff, work)


@router.get("/broadcasts", response_model=list[ReportOut])
def broadcasts(request: Request, staff: Staff) -> list[ReportOut]:
    """The latest broadcasts you may see, with their delivery counts."""

    def work(session: Session) -> list[ReportOut]:
        return [
            _report_out(broadcast_report(session, staff=staff, broadcast_id=row.id or 0))
            for row in list_broadcasts(session, staff=staff)
        ]

    return act(request, staff, work)


@router.get("/broadcasts/{broadcast_id}", response_model=ReportOut)
def broadcast_status(broadcast_id: RecordId, request: Request, staff: Staff) -> ReportOut:
    """Delivery report: outbox rows of the broadcast by status (queued, sent, delivered…)."""
    return act(
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
def confirm(broadcast_id: RecordId, request: Request, staff: Staff) -> ReportOut:
    """Queue the draft, or hold it for a second staff member's approval above the threshold."""
    threshold = settings_of(request).broadcast_approval_threshold
    return act(
        request,
        staff,
        _then_report(
            staff,
            broadcast_id,
            lambda s: confirm_broadcast(
                s, staff=staff, broadcast_id=broadcast_id, now=now(), threshold=threshold
            ),
        ),
    )


@router.post("/broadcasts/{broadcast_id}/approve", response_model=ReportOut)
def approve(broadcast_id: RecordId, request: Request, staff: Staff) -> ReportOut:
    """Approve a large broadcast: it is queued. The approver is not its author, nor linked to
    them by an account created in the last day."""
    return act(
        request,
        staff,
        _then_report(
            staff,
            broadcast_id,
            lambda s: approve_broadcast(s, staff=staff, broadcast_id=broadcast_id, now=now()),
        ),
    )


@router.post("/broadcasts/{broadcast_id}/cancel", response_model=ReportOut)
def cancel(broadcast_id: RecordId, request: Request, staff: Staff) -> ReportOut:
    """Cancel a draft, scheduled or running broadcast; messages not yet sent are cancelled."""
    return act(
        request,
        staff,
        _then_report(
            staff,
            broadcast_id,
            lambda s: cancel_broadcast(s, staff=staff, broadcast_id=broadcast_id, now=now()),
        ),
    )
