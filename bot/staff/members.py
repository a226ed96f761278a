"""Staff members as staff commands: add one, link their Telegram chat, revoke them, give them
a new API token.

Admins add and revoke members. A member links their own chat (an admin anyone's) and renews
their own token; handing out another member's fresh token would let whoever receives it act,
and approve broadcasts, as that member, so it is for admins only (the shell's `passnum staff
new-token`). The bootstrap token (PASSNUM_STAFF_TOKEN) is no member: it is rotated by changing
the variable. Every change is audited (`staff.create`, `staff.revoke`, `staff.new_token`;
the link's issue is kept in the audit log by `storage.staff`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.staff.people import telegram_start_link
from bot.staff.service import Command, Context, Handler
from storage.models import Staff
from storage.staff import StaffRefused, create_staff, issue_staff_link
from storage.staff_tokens import find_member, new_token, revoke_member

__all__ = [
    "HANDLERS",
    "ROLES",
    "AddStaffMember",
    "GiveNewToken",
    "IssueStaffTelegramLink",
    "NewMember",
    "RenewOwnToken",
    "RevokeStaffMember",
    "RevokedMember",
    "StaffToken",
]

ROLES = ("advisor", "admin")
_BOOTSTRAP = "the bootstrap token is renewed by changing PASSNUM_STAFF_TOKEN"


@dataclass(frozen=True)
class NewMember:
    """A member just created, with their API token (shown once, stored hashed)."""

    id: int
    name: str
    role: str
    place_ids: list[int]
    token: str


@dataclass(frozen=True)
class RevokedMember:
    id: int
    name: str
    revoked_at: datetime


@dataclass(frozen=True)
class StaffToken:
    """A member's new API token (shown once, stored hashed)."""

    id: int
    name: str
    token: str
    issued_at: datetime


@dataclass(frozen=True)
class AddStaffMember(Command[NewMember]):
    """`{"name": "Nadia", "role": "advisor", "place_ids": [1, 2]}` → the member and their
    token (admins only)."""

    name: str
    role: str = "advisor"
    place_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class IssueStaffTelegramLink(Command[str]):
    """`{"staff_id": 3, "bot_username": "passnum_bot"}` → a one-time `https://t.me/…` link
    that makes the chat opening it this member's (yourself, or anyone for an admin)."""

    staff_id: int
    bot_username: str


@dataclass(frozen=True)
class RevokeStaffMember(Command[RevokedMember]):
    """`{"member": 3}` (an id) or `{"member": "Nadia"}` (their token or name): their token is
    refused from now on and their Telegram chat is no longer staff (admins only)."""

    member: int | str


@dataclass(frozen=True)
class RenewOwnToken(Command[StaffToken]):
    """`{}` → a new token for whoever asks; their old one stops working."""


@dataclass(frozen=True)
class GiveNewToken(Command[StaffToken]):
    """`{"member": "Nadia"}` (their token or name) → a new token for them, to hand over; the
    old one stops working, a revoked member is back (admins only)."""

    member: str


def _admin(context: Context, what: str) -> None:
    if not context.staff.is_admin:
        raise StaffRefused("forbidden", f"only an admin may {what}")


def add_staff_member(context: Context, command: AddStaffMember) -> NewMember:
    _admin(context, "add staff members")
    if command.role not in ROLES:
        raise StaffRefused("invalid", "role: advisor or admin")
    places = list(command.place_ids)
    member, token = create_staff(
        context.session,
        name=command.name,
        role=command.role,
        place_ids=places,
        now=context.now,
        by=context.staff,
    )
    context.audit("staff.create", f"staff:{member.id}", f"{command.role} places {places}")
    return NewMember(member.id or 0, member.name, member.role, places, token)


def issue_staff_telegram_link(context: Context, command: IssueStaffTelegramLink) -> str:
    if not context.staff.is_admin and context.staff.id != command.staff_id:
        raise StaffRefused("forbidden", "only an admin may link another staff member")
    token = issue_staff_link(
        context.session, staff_id=command.staff_id, by=context.staff, now=context.now
    )
    return telegram_start_link(command.bot_username, token)


def _not_the_bootstrap_token(context: Context, token_or_name: str) -> None:
    bootstrap = context.settings.staff_token
    if bootstrap and hmac.compare_digest(token_or_name.encode(), bootstrap.encode()):
        raise StaffRefused(
            "invalid",
            "this is the bootstrap token: change PASSNUM_STAFF_TOKEN and restart the server",
        )


def _member(context: Context, member: int | str) -> Staff:
    if isinstance(member, str):
        _not_the_bootstrap_token(context, member)
        return find_member(context.session, token_or_name=member)
    found = context.session.get(Staff, member)
    if found is None:
        raise StaffRefused("not_found", f"no staff member {member}")
    return found


def revoke_staff_member(context: Context, command: RevokeStaffMember) -> RevokedMember:
    _admin(context, "revoke staff tokens")
    member = revoke_member(
        context.session, member=_member(context, command.member), now=context.now
    )
    context.audit("staff.revoke", f"staff:{member.id}")
    return RevokedMember(member.id or 0, member.name, member.revoked_at or context.now)


def _new_token(context: Context, member: Staff) -> StaffToken:
    token = new_token(context.session, member=member, now=context.now)
    context.audit("staff.new_token", f"staff:{member.id}")
    return StaffToken(member.id or 0, member.name, token, member.token_issued_at)


def renew_own_token(context: Context, command: RenewOwnToken) -> StaffToken:
    own = context.staff.id
    member = context.session.get(Staff, own) if own is not None else None
    if member is None:
        raise StaffRefused("invalid", _BOOTSTRAP)
    return _new_token(context, member)


def give_new_token(context: Context, command: GiveNewToken) -> StaffToken:
    _admin(context, "give another member a new token")
    return _new_token(context, _member(context, command.member))


HANDLERS: dict[type[Any], Handler] = {
    AddStaffMember: add_staff_member,
    IssueStaffTelegramLink: issue_staff_telegram_link,
    RevokeStaffMember: revoke_staff_member,
    RenewOwnToken: renew_own_token,
    GiveNewToken: give_new_token,
}
