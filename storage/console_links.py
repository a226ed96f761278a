"""One-time console sign-in links sent to a staff member's Telegram chat.

Why: an advisor at a desk PC may not have their staff token at hand, but has the Telegram chat
they linked (`Staff.telegram_chat_id`, see bot/channels/telegram_staff.py). The link holds a random
secret; only its SHA-256 is stored. It opens one session, once, within `LINK_LIFETIME`, and
only while the member is not revoked and their token is the one the link was issued under (a
new or expired token, or a revocation, ends it like the sessions). The message goes through the
outbox (channel telegram), so asking sends nothing from the request itself; the outbox row's
text, which holds the link, is blanked once the link is used. Whether a name has a chat is
never said to the asker: every request gets the same answer, and each one is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

from storage.models import ConsoleSignInLink, OutboundMessage, Staff
from storage.outbox import enqueue
from storage.staff import StaffIdentity, actor_of, audit, identity_of

__all__ = ["LINK_LIFETIME", "LIVE_LINKS_MAX", "send_signin_link", "use_signin_link"]

LINK_LIFETIME = timedelta(minutes=10)
LIVE_LINKS_MAX = 3  # unused links alive at once per member: asking again and again sends no more
USED_TEXT = "(lien de connexion utilisé)"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _dedupe_key(secret_hash: str) -> str:
    return f"console-signin:{secret_hash[:32]}"


def _member_who_may_sign_in(
    session: Session, name: str, now: datetime, ttl: timedelta
) -> tuple[Staff | None, str]:
    named = session.scalars(
        select(Staff).where(func.lower(Staff.name) == name.strip().lower())
    ).all()
    if len(named) != 1:
        return None, "no single staff member of this name"
    member = named[0]
    if member.telegram_chat_id is None:
        return member, "no linked Telegram chat"
    if member.revoked_at is not None or member.token_hash is None:
        return member, "revoked"
    if member.token_issued_at + ttl <= now:
        return member, "token expired"
    return member, ""


def send_signin_link(
    session: Session,
    *,
    name: str,
    message: Callable[[str], str],
    link_base: str,
    now: datetime,
    token_ttl: timedelta,
) -> bool:
    """Queue a one-time link for the member named `name` to their Telegram chat (the text is
    `message(link)`); False when none went (the caller answers the same either way)."""
    member, refusal = _member_who_may_sign_in(session, name, now, token_ttl)
    if member is not None and not refusal:
        live = session.scalar(
            select(func.count())
            .select_from(ConsoleSignInLink)
            .where(
                ConsoleSignInLink.staff_id == member.id,
                ConsoleSignInLink.used_at.is_(None),  # type: ignore[union-attr]
                ConsoleSignInLink.expires_at > now,
            )
        )
        refusal = "too many live links" if (live or 0) >= LIVE_LINKS_MAX else ""
    actor = actor_of(identity_of(member)) if member is not None else "anonymous"
    if member is None or refusal:
        audit(
            session,
            actor=actor,
            action="console.link_refused",
            record=None,
            detail=refusal,
            now=now,
        )
        return False
    secret = secrets.token_urlsafe(32)
    row = ConsoleSignInLink(
        secret_hash=_hash(secret),
        staff_id=member.id or 0,
        token_hash=member.token_hash or "",
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    session.add(row)
    enqueue(
        session,
        channel="telegram",
        address=f"tg:{member.telegram_chat_id}",
        body=message(f"{link_base.rstrip('/')}/signin/link/{secret}"),
        now=now,
        dedupe_key=_dedupe_key(row.secret_hash),
        not_after=row.expires_at,
    )
    audit(session, actor=actor, action="console.link_sent", record=f"staff:{member.id}", now=now)
    session.flush()
    return True


def use_signin_link(
    session: Session, *, secret: str, now: datetime
) -> tuple[StaffIdentity, str] | None:
    """The member a live, unused link signs in, and the token hash their session stands on;
    the link is spent. None when the link is unknown, used, expired or no longer valid."""
    row = session.get(ConsoleSignInLink, _hash(secret), with_for_update=True)
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    spent = session.execute(
        update(ConsoleSignInLink)
        .where(
            ConsoleSignInLink.secret_hash == row.secret_hash,
            ConsoleSignInLink.used_at.is_(None),  # type: ignore[union-attr]
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None  # used at the same moment by another request
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.dedupe_key == _dedupe_key(row.secret_hash))
        .values(body=USED_TEXT)
    )
    member = session.get(Staff, row.staff_id)
    if member is None or member.revoked_at is not None or member.token_hash != row.token_hash:
        return None
    identity = identity_of(member)
    audit(
        session,
        actor=actor_of(identity),
        action="console.link_used",
        record=f"staff:{member.id}",
        now=now,
    )
    return identity, row.token_hash
