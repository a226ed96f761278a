"""PostgreSQL: the conversation threads keep their connections between turns and do not ping
them; when the server drops one (a restart, an idle timeout, an administrator), the next
webhook is still answered, on a fresh connection, and counted once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from storage.db import create_db_engine, read_only
from storage.demo import DEMO_PHONE
from storage.migrate import upgrade
from storage.models import InboundMessage
from tests.conftest import POSTGRES_URL
from tests.e2e.conftest import LiveApp

APPLICATION = f"passnum-dropped-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """This module's PostgreSQL schema, its connections named so the test can drop them."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL only (PASSNUM_TEST_DATABASE_URL)")
    url = make_url(request.getfixturevalue("postgres_schema_url"))
    url = url.update_query_dict({"application_name": APPLICATION})
    named = url.render_as_string(hide_password=False)
    engine = create_db_engine(named)
    upgrade(engine)
    engine.dispose()
    return named


def _drop_app_connections() -> int:
    """What a server restart does to the app: every one of its connections closed."""
    assert POSTGRES_URL
    admin = create_db_engine(POSTGRES_URL)
    try:
        with admin.connect() as connection:
            dropped = connection.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
                    " FROM pg_stat_activity WHERE application_name = :name"
                ),
                {"name": APPLICATION},
            ).scalar_one()
    finally:
        admin.dispose()
    return int(dropped)


def _inbound_count(live_app: LiveApp, sid: str) -> int:
    with read_only(live_app.engine) as session:  # type: ignore[arg-type]
        query = select(func.count()).where(InboundMessage.provider_id == sid)
        return int(session.execute(query).scalar_one())


def test_a_dropped_connection_does_not_lose_the_next_webhook(live_app: LiveApp) -> None:
    assert "<Message>" in live_app.sms("bonjour", sender=DEMO_PHONE).text
    assert _drop_app_connections() >= 1  # the turn's kept connection among them
    for n in range(3):
        sid = f"SMdropped{n}{uuid.uuid4().hex[:8]}"
        answer = live_app.sms("1", sender=DEMO_PHONE, sid=sid)
        assert answer.status_code == 200 and "<Message>" in answer.text
        assert _inbound_count(live_app, sid) == 1
    assert _drop_app_connections() >= 1
    answer = live_app.sms("bonjour", sender=DEMO_PHONE)
    assert answer.status_code == 200 and "<Message>" in answer.text
