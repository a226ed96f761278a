"""Broadcasts: preview, draft, confirm, approve, cancel and delivery report.
The rules are the handlers' (`bot.staff.broadcasts`), shared with the console and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bot.api.auth import Staff
from bot.api.plumbing import RecordId, handle
from bot.staff.broadcasts import (
    ApproveBroadcast,
    BroadcastReport,
    CancelBroadcast,
    ConfirmBroadcast,
    CreateBroadcast,
    Draft,
    ListBroadcasts,
    Preview,
    PreviewBroadcast,
)
from storage.broadcast_reports import Report

__all__ = ["BroadcastIn", "router"]

router = APIRouter()


class BroadcastIn(BaseModel):
    segment: str = Field(examples=["unused", "slot:12", "commune:Échirolles"])
    message: str = Field(min_length=1, max_length=1600)
    language: Literal["fr", "en"] | None = Field(None, description="only people of this language")
    send_at: datetime | None = Field(None, description="ISO 8601; local time without an offset")


@router.post("/broadcasts/preview", response_model=Preview)
def preview_broadcast(body: BroadcastIn, request: Request, staff: Staff) -> Preview:
    """Recipients by channel, the SMS after transliteration, its segments and estimated cost;
    `reach_24h`: people reached with the overlapping broadcasts of the last 24 h, what the
    approval threshold is compared with."""
    return handle(request, staff, PreviewBroadcast(**body.model_dump()))


@router.post("/broadcasts", response_model=Draft, status_code=201)
def create_draft(body: BroadcastIn, request: Request, staff: Staff) -> Draft:
    """Compose a broadcast: a draft with its preview. Nothing is sent before confirm."""
    return handle(request, staff, CreateBroadcast(**body.model_dump()))


@router.get("/broadcasts", response_model=list[Report])
def broadcasts(request: Request, staff: Staff) -> list[Report]:
    """The latest broadcasts you may see, with their delivery counts."""
    return handle(request, staff, ListBroadcasts())


@router.get("/broadcasts/{broadcast_id}", response_model=Report)
def broadcast_status(broadcast_id: RecordId, request: Request, staff: Staff) -> Report:
    """Delivery report: outbox rows of the broadcast by status (queued, sent, delivered…)."""
    return handle(request, staff, BroadcastReport(broadcast_id=broadcast_id))


@router.post("/broadcasts/{broadcast_id}/confirm", response_model=Report)
def confirm(broadcast_id: RecordId, request: Request, staff: Staff) -> Report:
    """Queue the draft, or hold it for a second staff member's approval above the threshold."""
    return handle(request, staff, ConfirmBroadcast(broadcast_id=broadcast_id))


@router.post("/broadcasts/{broadcast_id}/approve", response_model=Report)
def approve(broadcast_id: RecordId, request: Request, staff: Staff) -> Report:
    """Approve a large broadcast: it is queued. The approver is not its author, nor linked to
    them by an account created in the last day."""
    return handle(request, staff, ApproveBroadcast(broadcast_id=broadcast_id))


@router.post("/broadcasts/{broadcast_id}/cancel", response_model=Report)
def cancel(broadcast_id: RecordId, request: Request, staff: Staff) -> Report:
    """Cancel a draft, scheduled or running broadcast; messages not yet sent are cancelled."""
    return handle(request, staff, CancelBroadcast(broadcast_id=broadcast_id)).report
