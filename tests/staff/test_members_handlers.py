"""The staff member commands (`bot.staff.members`) through the real service, on both
databases: admins add and revoke members, a member renews their own token and links their own
chat, the bootstrap token is nobody's, and every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.bootstrap import build_staff_service
from bot.staff.members import (
    AddStaffMember,
    GiveNewToken,
    IssueStaffTelegramLink,
    RenewOwnToken,
    RevokeStaffMember,
)
from bot.staff.service import StaffService
from config import load_settings
from storage.db import unit_of_work
from storage.models import AuditEntry
from storage.staff import CLI_ADMIN, StaffIdentity, StaffRefused, link_staff_chat
from storage.staff_tokens import TokenRefused, check_token

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
BOOTSTRAP = "a-bootstrap-token-long-enough-Zq81xW"
TTL = timedelta(days=90)


def _service(engine: Engine) -> StaffService:
    return build_staff_service(engine, load_settings(staff_token=BOOTSTRAP), clock=lambda: AT)


def _actions(engine: Engine) -> list[tuple[str, str, str | None, str | None]]:
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.record, AuditEntry.detail)
            .where(AuditEntry.action != "staff.telegram_link_issued")
            .order_by(AuditEntry.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _token_of(engine: Engine, token: str) -> StaffIdentity | str:
    with unit_of_work(engine) as session:
        try:
            return check_token(session, token=token, now=AT, ttl=TTL)
        except TokenRefused as refused:
            return refused.reason


def test_admins_add_members_advisors_may_not(engine: Engine) -> None:
    service = _service(engine)
    nadia = service.handle(CLI_ADMIN, AddStaffMember(name="Nadia", place_ids=(3, 1)))
    assert (nadia.role, nadia.place_ids) == ("advisor", [3, 1])
    advisor = _token_of(engine, nadia.token)
    assert isinstance(advisor, StaffIdentity) and advisor.place_ids == (3, 1)
    with pytest.raises(StaffRefused, match="only an admin may add staff members"):
        service.handle(advisor, AddStaffMember(name="Paul", role="admin"))
    with pytest.raises(StaffRefused, match="role: advisor or admin") as role:
        service.handle(CLI_ADMIN, AddStaffMember(name="Paul", role="boss"))
    with pytest.raises(StaffRefused, match="place ids are between 1 and"):
        service.handle(CLI_ADMIN, AddStaffMember(name="Paul", place_ids=(0,)))
    assert role.value.kind == "invalid"
    assert _actions(engine) == [
        ("cli", "staff.create", f"staff:{nadia.id}", "advisor places [3, 1]"),
        (
            f"staff:{nadia.id}:Nadia",
            "refused.forbidden",
            "AddStaffMember",
            "only an admin may add staff members",
        ),
        ("cli", "refused.invalid", "AddStaffMember", "role: advisor or admin"),
        ("cli", "refused.invalid", "AddStaffMember", "place ids are between 1 and 2147483647"),
    ]


def test_a_member_links_their_own_chat_an_admin_anyones(engine: Engine) -> None:
    service = _service(engine)
    nadia = service.handle(CLI_ADMIN, AddStaffMember(name="Nadia"))
    paul = service.handle(CLI_ADMIN, AddStaffMember(name="Paul"))
    as_nadia = StaffIdentity(id=nadia.id, name="Nadia", role="advisor", place_ids=())
    link = service.handle(as_nadia, IssueStaffTelegramLink(staff_id=nadia.id, bot_username="b"))
    token = link.removeprefix("https://t.me/b?start=")
    assert token.startswith("staff-")
    with pytest.raises(StaffRefused, match="only an admin may link another staff member"):
        service.handle(as_nadia, IssueStaffTelegramLink(staff_id=paul.id, bot_username="b"))
    with pytest.raises(StaffRefused, match="no staff member 999") as unknown:
        service.handle(CLI_ADMIN, IssueStaffTelegramLink(staff_id=999, bot_username="b"))
    assert unknown.value.kind == "not_found"
    service.handle(CLI_ADMIN, IssueStaffTelegramLink(staff_id=paul.id, bot_username="b"))
    with unit_of_work(engine) as session:
        linked = link_staff_chat(session, token=token, chat_id=42, now=AT)
        session.commit()
    assert linked is not None and linked.id == nadia.id


def test_revoking_and_new_tokens(engine: Engine) -> None:
    service = _service(engine)
    nadia = service.handle(CLI_ADMIN, AddStaffMember(name="Nadia"))
    lea = service.handle(CLI_ADMIN, AddStaffMember(name="Léa"))
    as_nadia = StaffIdentity(id=nadia.id, name="Nadia", role="advisor", place_ids=())
    with pytest.raises(StaffRefused, match="only an admin may revoke staff tokens"):
        service.handle(as_nadia, RevokeStaffMember(member=lea.id))
    with pytest.raises(StaffRefused, match="give another member a new token"):
        service.handle(as_nadia, GiveNewToken(member="Léa"))

    renewed = service.handle(as_nadia, RenewOwnToken())
    assert (renewed.id, renewed.name) == (nadia.id, "Nadia") and renewed.token != nadia.token
    assert _token_of(engine, nadia.token) == "unknown"
    assert isinstance(_token_of(engine, renewed.token), StaffIdentity)
    with pytest.raises(StaffRefused, match="PASSNUM_STAFF_TOKEN") as bootstrap:
        service.handle(CLI_ADMIN, RenewOwnToken())
    assert bootstrap.value.kind == "invalid"

    revoked = service.handle(CLI_ADMIN, RevokeStaffMember(member=nadia.id))
    assert (revoked.name, revoked.revoked_at.replace(tzinfo=UTC)) == ("Nadia", AT)
    assert _token_of(engine, renewed.token) == "revoked"
    with pytest.raises(StaffRefused, match="already revoked") as again:
        service.handle(CLI_ADMIN, RevokeStaffMember(member="nadia"))
    assert again.value.kind == "conflict"
    by_token = service.handle(CLI_ADMIN, RevokeStaffMember(member=lea.token))
    assert by_token.id == lea.id
    with pytest.raises(StaffRefused, match="no staff member 999"):
        service.handle(CLI_ADMIN, RevokeStaffMember(member=999))
    with pytest.raises(StaffRefused, match="no staff member has this token or name"):
        service.handle(CLI_ADMIN, RevokeStaffMember(member="Nobody"))
    with pytest.raises(StaffRefused, match="this is the bootstrap token"):
        service.handle(CLI_ADMIN, RevokeStaffMember(member=BOOTSTRAP))
    with pytest.raises(StaffRefused, match="this is the bootstrap token"):
        service.handle(CLI_ADMIN, GiveNewToken(member=BOOTSTRAP))

    back = service.handle(CLI_ADMIN, GiveNewToken(member="NADIA"))
    assert isinstance(_token_of(engine, back.token), StaffIdentity)  # revoked no more
    done = [(a, act, r) for a, act, r, _ in _actions(engine) if not act.startswith("refused.")]
    assert done[2:] == [
        (f"staff:{nadia.id}:Nadia", "staff.new_token", f"staff:{nadia.id}"),
        ("cli", "staff.revoke", f"staff:{nadia.id}"),
        ("cli", "staff.revoke", f"staff:{lea.id}"),
        ("cli", "staff.new_token", f"staff:{nadia.id}"),
    ]
