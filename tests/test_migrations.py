"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from sqlalchemy import inspect
from sqlmodel import SQLModel

from sessions import migrate
from sessions.db import make_engine


def test_upgrade_to_head_matches_models(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.check(database_url)  # raises if a model change has no migration
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
