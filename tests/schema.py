"""The models' schema in a test's fresh database, fast.

`create_all` asks the database about every table, then creates them one by one: about
0.3 s a test on SQLite, more on PostgreSQL. Here it runs once per process: on SQLite into
a template file that each test's database is then a copy of; on PostgreSQL it is recorded
as DDL (types, tables, indexes) that each fresh schema gets in one round trip. A database
that already has tables gets `create_all` as before (it only adds what is missing).

On PostgreSQL even that DDL costs 0.6-0.8 s a test on a busy 2-core machine (57 tables,
their indexes and types written to the catalogue), and dropping the schema afterwards 0.2-0.5
s: minutes of the suite. So a test's schema, when it ends as installed (the same tables, no
others: a migration test's `alembic_version` sends it to DROP), is emptied (DELETE, the
ids' sequences back to 1: 20-30 ms) and kept in this process's pool; the next test's fresh
schema is then swapped for a pooled one by renaming (`ALTER SCHEMA ... RENAME`, as cheap
as the name). Anything unexpected on the way (a lock held by a straggling server, an
error) drops the schema as before.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_mock_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from sessions.db import create_all, is_sqlite, make_engine, normalise_url

_lock = threading.Lock()
_sqlite_template: Path | None = None
_postgres_ddl: str | None = None
_pool: list[str] = []  # emptied, installed schemas of this process (PostgreSQL)
_POOL_MAX = 4
_pool_dropped_at_exit = False


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
                    if not _swap_in_pooled(conn):
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


def _swap_in_pooled(conn: Any) -> bool:
    """The connection's (empty) schema replaced by a pooled installed one, same name."""
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    if schema is None:  # the URL names no schema that exists: nothing to swap
        return False
    with _lock:
        if not _pool:
            return False
        pooled = _pool.pop()
    conn.execute(text(f'DROP SCHEMA "{schema}"'))  # empty: no CASCADE needed
    conn.execute(text(f'ALTER SCHEMA "{pooled}" RENAME TO "{schema}"'))
    return True


def empty_tables(conn: Any) -> None:
    """Delete every row and start the ids at 1 again, as in a fresh database. Children
    first: no foreign key is left pointing at a deleted row. DELETE rather than TRUNCATE:
    with a few rows per table it is ten times faster on PostgreSQL."""
    tables = SQLModel.metadata.sorted_tables
    if conn.dialect.name != "postgresql":  # SQLite's rowids restart by themselves
        for table in reversed(tables):
            conn.execute(table.delete())
        return
    conn.exec_driver_sql(";".join(f'DELETE FROM "{table.name}"' for table in reversed(tables)))
    conn.execute(
        text(
            "SELECT setval(seq, 1, false) FROM ("
            "SELECT pg_get_serial_sequence(quote_ident(name), 'id') AS seq "
            "FROM unnest(CAST(:names AS text[])) AS name) AS s WHERE seq IS NOT NULL"
        ),
        {"names": [table.name for table in tables if "id" in table.columns]},
    )


def recycle_postgres_schema(admin: Engine, schema: str) -> bool:
    """Empty a finished test's schema and keep it for the next test of this process.
    False (nothing changed) when it is not as installed or cannot be had at once: the
    caller drops it then."""
    if len(_pool) >= _POOL_MAX:
        return False
    tables = [table.name for table in SQLModel.metadata.sorted_tables]
    pooled = f"pool_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            conn.execute(text(f'SET LOCAL search_path = "{schema}"'))
            found = conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            ).scalars()
            if set(found) != set(tables):
                return False
            empty_tables(conn)
            conn.execute(text(f'ALTER SCHEMA "{schema}" RENAME TO "{pooled}"'))
    except DBAPIError:
        return False
    global _pool_dropped_at_exit
    with _lock:
        if not _pool_dropped_at_exit:
            atexit.register(_drop_pool, admin.url.render_as_string(hide_password=False))
            _pool_dropped_at_exit = True
        _pool.append(pooled)
    return True


def _drop_pool(url: str) -> None:
    if not _pool:
        return
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for name in _pool:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        _pool.clear()
    finally:
        engine.dispose()
