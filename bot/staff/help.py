"""The help inbox as staff commands: the requests waiting (and the latest answered), and an
answer sent to the person on their channel through the outbox.

The rule, once: an advisor sees and answers the requests of the people they may act on
(`storage.access`); only an admin answers a number that belongs to nobody. The SMS answer is
sent in GSM-7 (curly quotes become straight ones), its segments counted for the cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bot.staff.rows import detached
from bot.staff.service import Command, Context, Handler
from flows.gsm7 import sms_segments, to_gsm7
from storage.access import beneficiary_for_staff
from storage.console_queries import answered_help_requests
from storage.help_inbox import mark_answered, person_reply_address
from storage.models import HelpRequest
from storage.outbox import enqueue
from storage.staff import StaffRefused, open_help_requests

__all__ = ["HANDLERS", "AnswerHelpRequest", "HelpInbox", "HelpRequests"]


@dataclass(frozen=True)
class HelpInbox:
    """Requests waiting for an answer (oldest first) and the latest answered ones."""

    waiting: list[HelpRequest]
    answered: list[HelpRequest]


@dataclass(frozen=True)
class HelpRequests(Command[HelpInbox]):
    """`{"answered": 20}` → the unanswered requests this staff member may see, and up to
    `answered` of the latest answered ones (admins: all; advisors: their own answers)."""

    read_only: ClassVar[bool] = True
    answered: int = 20


@dataclass(frozen=True)
class AnswerHelpRequest(Command[HelpRequest]):
    """`{"request_id": 3, "text": "Passez mardi à l'accueil"}`: queue the answer on the
    person's channel; the request is answered (audited `help.answer`)."""

    request_id: int
    text: str


def help_requests(context: Context, command: HelpRequests) -> HelpInbox:
    session = context.session
    waiting = open_help_requests(session, staff=context.staff)
    answered = (
        answered_help_requests(session, staff=context.staff, limit=command.answered)
        if command.answered
        else []
    )
    return HelpInbox(detached(session, waiting), detached(session, answered))


def _reply_address(context: Context, request: HelpRequest) -> tuple[str, str]:
    if request.beneficiary_id is None:
        if not context.staff.is_admin:
            raise StaffRefused("forbidden", "only an admin may answer an unknown sender")
        return request.channel, request.address
    beneficiary_for_staff(context.session, context.staff, request.beneficiary_id)
    target = person_reply_address(context.session, beneficiary_id=request.beneficiary_id)
    if target is None:
        raise StaffRefused("conflict", "this person cannot be written to (opted out or no address)")
    return target


def answer_help_request(context: Context, command: AnswerHelpRequest) -> HelpRequest:
    request = context.session.get(HelpRequest, command.request_id)
    if request is None:
        raise StaffRefused("not_found", f"no help request {command.request_id}")
    if request.answered_at is not None:
        raise StaffRefused("conflict", f"help request {command.request_id} was already answered")
    answer = command.text.strip()
    if not answer:
        raise StaffRefused("invalid", "the answer is empty")
    channel, address = _reply_address(context, request)
    body = to_gsm7(answer) if channel == "sms" else answer
    enqueue(
        context.session,
        channel=channel,
        address=address,
        body=body,
        now=context.now,
        beneficiary_id=request.beneficiary_id,
        segments=sms_segments(body) or 1,
        dedupe_key=f"help-answer:{command.request_id}",
    )
    mark_answered(context.session, request, answer=answer, by=context.staff.id, now=context.now)
    context.audit("help.answer", f"help:{command.request_id}", channel)
    return request


HANDLERS: dict[type[Any], Handler] = {
    HelpRequests: help_requests,
    AnswerHelpRequest: answer_help_request,
}
