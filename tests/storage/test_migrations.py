"""The migrations build exactly the schema the models describe, on both databases, and
migrating twice is harmless."""

from __future__ import annotations

from alembic import command

from storage.db import create_db_engine
from storage.migrate import alembic_config, upgrade


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_db_engine(database_url)
    upgrade(engine)  # already at head: nothing happens
    config = alembic_config(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)  # raises when a model change has no migration
    engine.dispose()


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    engine = create_db_engine(database_url)
    config = alembic_config(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        command.upgrade(config, "head")
    engine.dispose()
