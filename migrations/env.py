"""Alembic environment: migrations for every table in sessions.models."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import sessions.models  # noqa: F401  (fills the metadata)
from sessions.db import is_sqlite, make_engine

config = context.config
url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Our column types live in our own modules; name them so migrations import them.
    module = type(obj).__module__
    if type_ == "type" and module.startswith("sessions."):
        return f"sessions.models.base.{type(obj).__name__}()"
    if type_ == "type" and module.startswith("sqlmodel."):
        return f"sqlmodel.sql.sqltypes.{obj!r}"  # keeps the length: AutoString(length=64)
    return False


def run_migrations() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=is_sqlite(url),  # SQLite alters tables by copying them
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
