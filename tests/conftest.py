"""Shared fixtures: a migrated database on SQLite, and on PostgreSQL when
PASSNUM_TEST_DATABASE_URL is set (CI sets it). Each PostgreSQL test gets its own schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from storage.db import create_db_engine
from storage.migrate import upgrade

POSTGRES_URL = os.environ.get("PASSNUM_TEST_DATABASE_URL") or None
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'passnum-test.db'}"


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a fresh, empty schema (dropped afterwards)."""
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An empty, migrated database URL: SQLite file, then PostgreSQL when configured."""
    if request.param == "sqlite":
        url = _sqlite_url(tmp_path)
    else:
        url = request.getfixturevalue("postgres_schema_url")
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database (each backend in turn)."""
    eng = create_db_engine(database_url)
    yield eng
    eng.dispose()
