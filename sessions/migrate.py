"""Run and check Alembic migrations from code (CLI and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


class UnknownSchema(Exception):
    """The database was made by a schema revision this checkout does not have."""


def upgrade(database_url: str, revision: str = "head") -> None:
    try:
        command.upgrade(alembic_config(database_url), revision)
    except CommandError as exc:
        if "Can't locate revision" not in str(exc):
            raise
        # Until the first release the schema is one initial migration, regenerated when the
        # models change: a development database made before that names a revision that is
        # gone. Say what to do rather than print Alembic's traceback.
        raise UnknownSchema(
            f"This database was made by a schema revision this version does not know ({exc}). "
            "Until the first release the schema is one migration, regenerated as it changes: "
            "move the development database aside (by default var/vitrine.db) and run "
            "`make run` again to make a new one with the demo brand."
        ) from exc


def check(database_url: str) -> None:
    """Raise if the models have changes no migration covers."""
    command.check(alembic_config(database_url))


def autogenerate(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
