"""The models' schema in a test's fresh database, fast.

`create_all` asks the database about every table, then creates them one by one: about
0.3 s a test on SQLite, more on PostgreSQL. Here it runs once per process: on SQLite into
a template file that each test's database is then a copy of; on PostgreSQL it is recorded
as DDL (types, tables, indexes) that each fresh schema gets in one round trip. A database
that already has tables gets `create_all` as before (it only adds what is missing).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import create_mock_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from sessions.db import create_all, is_sqlite, make_engine, normalise_url

_lock = threading.Lock()
_sqlite_template: Path | None = None
_postgres_ddl: str | None = None


def install_schema(target: str | Engine) -> None:
    """Every table of the models in the database at `target` (a URL or an engine)."""
    url = normalise_url(target if isinstance(target, str) else str(target.url))
    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:" and _is_empty_file(Path(path)):
            if isinstance(target, Engine):
                target.dispose()  # no connection of its own may hold the file we replace
            shutil.copyfile(_sqlite_template_file(), path)
            return
    elif url.startswith("postgresql"):
        engine = target if isinstance(target, Engine) else make_engine(url)
        try:
            with engine.begin() as conn:
                tables = conn.execute(
                    text(
                        "SELECT count(*) FROM information_schema.tables"
                        " WHERE table_schema = current_schema()"
                    )
                ).scalar_one()
                if tables == 0:
                    conn.exec_driver_sql(_postgres_schema_ddl(engine))
                    return
        finally:
            if engine is not target:
                engine.dispose()
    _create_all(target)


def _create_all(target: str | Engine) -> None:
    if isinstance(target, Engine):
        create_all(target)
        return
    engine = make_engine(target)
    try:
        create_all(engine)
    finally:
        engine.dispose()


def _is_empty_file(path: Path) -> bool:
    """No file yet, or one SQLite has not written a page to (a fresh connection's)."""
    wal = path.with_name(path.name + "-wal")
    return (not path.exists() or path.stat().st_size == 0) and not wal.exists()


def _sqlite_template_file() -> Path:
    global _sqlite_template
    with _lock:
        if _sqlite_template is None:
            folder = Path(tempfile.mkdtemp(prefix="vitrine-schema-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            template = folder / "template.db"
            engine = make_engine(f"sqlite:///{template}")
            create_all(engine)
            engine.dispose()  # the last connection closing checkpoints the WAL into the file
            assert not template.with_name("template.db-wal").exists()
            _sqlite_template = template
        return _sqlite_template


def _postgres_schema_ddl(engine: Engine) -> str:
    """`create_all`'s statements for an empty schema, recorded once (unqualified names:
    they land in the connection's search_path, as create_all's would)."""
    global _postgres_ddl
    with _lock:
        if _postgres_ddl is None:
            statements: list[str] = []

            def record(sql: Any, *_: Any, **__: Any) -> None:
                statements.append(str(sql.compile(dialect=mock.dialect)).strip())

            mock = create_mock_engine(engine.url, record)
            SQLModel.metadata.create_all(mock, checkfirst=False)
            _postgres_ddl = ";\n".join(statements) + ";"
        return _postgres_ddl
