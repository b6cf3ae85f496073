"""Fixtures shared by every test.

The database is SQLite (a temp file) by default; set TEST_DATABASE_URL (as
`make test` does for its second pass) to run the same suite on PostgreSQL.
Each test gets a fresh schema.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from sessions import ratelimit
from sessions.db import make_engine, normalise_url
from sessions.events import Event, bus
from sessions.passwords import use_fast_hashing_for_tests
from tests.factories import Factory
from tests.schema import install_schema, recycle_postgres_schema
from web import create_app
from web.scheduler import stop as stop_scheduler
from web.sockets import shutdown as shutdown_live_rooms

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]

use_fast_hashing_for_tests()


def _serialise_ast_parse() -> None:
    """CPython 3.11 keeps the AST builder's recursion depth per interpreter, not per thread:
    two threads of one test process parsing at once (Werkzeug compiles each URL rule with
    ``ast.parse`` while an app is built; a server thread of an earlier test may be building
    its own) can raise "SystemError: AST constructor recursion depth mismatch"
    (python/cpython#106905). Served nodes never hit it (one thread, greenlets do not switch
    inside a C call); the test process, which runs apps in threads, parses one at a time."""
    import ast
    import threading

    parse, lock = ast.parse, threading.RLock()

    def parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return parse(*args, **kwargs)

    ast.parse = parse_one_at_a_time  # type: ignore[assignment]


_serialise_ast_parse()


def _share_url_builders() -> None:
    """Werkzeug generates and compiles two Python functions per URL rule (``ast`` + ``compile``)
    each time an app is built: 1,000 rules in all, 0.15-0.3 s of every test that builds an
    app, minutes of the suite (profiled: nine tenths of ``create_app``). A served node builds
    its app once, so this only matters here. The generated function reads the rule through
    its ``.self`` argument at call time and depends only on the rule's text, its parsed
    trace, its defaults and ``append_unknown``: the test process compiles each one once."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    cache: dict[tuple[Any, ...], Any] = {}

    def shared(self: Rule, append_unknown: bool = True) -> Any:
        defaults = tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items()))
        key = (self.rule, tuple(self._trace), defaults, append_unknown)
        builder = cache.get(key)
        if builder is None:
            builder = cache[key] = compile_builder(self, append_unknown)
        return builder

    Rule._compile_builder = shared  # type: ignore[method-assign]


_share_url_builders()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test: a SQLite file or a PostgreSQL schema."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    # A test's commits need not wait for the disk (on a crash the schema is thrown away).
    options = f"-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
    yield f"{normalise_url(POSTGRES_URL)}{sep}options={options}"
    if not recycle_postgres_schema(admin, schema):  # emptied for the next test, or dropped
        drop_schema(admin, schema)
    admin.dispose()


def drop_schema(admin: Engine, schema: str) -> None:
    """Drop a test's schema; a straggling connection (a server still closing) may hold a
    lock for a moment, and PostgreSQL then reports a deadlock: try again."""
    for attempt in range(5):
        try:
            with admin.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.5)  # the other session is finishing; nothing to await on


def app_config(database_url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """The configuration of a test app, with a test's own overrides."""
    return {
        "VITRINE_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "MEDIA_GRANT_SECRET": "test-media-secret",
        "DATABASE_URL": database_url,
        "SOCKETIO_ASYNC_MODE": "threading",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "VAR_DIR": str(tmp_path / "var"),
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        # Every test client is 127.0.0.1: tests/security/test_guests.py tests this limit.
        "GUEST_RATE_LIMIT": "100000 per hour",
        **overrides,
    }


@contextlib.contextmanager
def running_app(config: dict[str, Any]) -> Iterator[Flask]:
    """An app on a fresh schema, its loops and scheduler stopped when the test ends."""
    app = create_app(config)
    install_schema(app.extensions["vitrine.engine"])
    if not app.config["REDIS_URL"]:
        ratelimit.reset()  # counts live in this process: each test starts with full budgets
    try:
        yield app
    finally:
        shutdown_live_rooms()  # its background loops must not outlive the test's database
        stop_scheduler(app)
        app.extensions["vitrine.engine"].dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with running_app(app_config(database_url, tmp_path)) as app:
        yield app


@pytest.fixture
def engine(app: Flask) -> Engine:
    return app.extensions["vitrine.engine"]


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def factory(session: Session) -> Factory:
    return Factory(session)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, email: str, password: str = Factory.PASSWORD) -> None:
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.data[:500]


@pytest.fixture
def events() -> Iterator[list[Event]]:
    """Every domain event published during the test, in order."""
    seen: list[Event] = []
    bus.subscribe(seen.append)
    yield seen
    bus.unsubscribe(seen.append)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF meta tag"
    return match.group(1)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright's sync API, shared by one test module.

    Module scope, not session: while a sync Playwright is open its event loop
    counts as running in this thread, and the asyncio tests (aiortc peers) that
    run in later modules need the thread free.
    """
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        _watch_csp(browser)
        _allow_waiting_under_csp()
        yield browser
        browser.close()


# Every page of every browser test reports Content-Security-Policy violations, in any frame
# (the embed's too): a page that needs something the policy refuses fails its test.
_CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));"""
CSP_VIOLATIONS: list[str] = []


def _watch_csp(browser: Any) -> None:
    new_context = browser.new_context

    def watched_context(*args: Any, **kwargs: Any) -> Any:
        context = new_context(*args, **kwargs)
        context.add_init_script(_CSP_LISTENER)
        context.on("page", lambda page: page.on("console", _record_csp))
        return context

    def watched_page(*args: Any, **kwargs: Any) -> Any:
        page = new_page(*args, **kwargs)  # its own context; the init script still runs first
        page.context.add_init_script(_CSP_LISTENER)  # on every navigation from here on
        page.on("console", _record_csp)
        return page

    new_page = browser.new_page
    browser.new_context = watched_context
    browser.new_page = watched_page


def _csp_safe_wait_for_function(
    self: Any,
    expression: str,
    *,
    arg: Any = None,
    timeout: float | None = None,
    polling: Any = None,
) -> Any:
    """Playwright's wait_for_function compiles a string predicate with `new Function` inside
    the page, which a CSP without 'unsafe-eval' refuses (rightly). This one hands the
    predicate to the page through the DevTools protocol, as `evaluate` does, and the page
    awaits it itself; same arguments, same timeout error, the page's CSP untouched."""
    text = expression.strip()
    is_function = text.startswith(("function", "async")) or (
        text.startswith("(") and "=>" in text.split("{", 1)[0]
    )
    predicate = text if is_function else f"() => ({text})"
    ms = 30_000 if timeout is None else timeout
    source = f"""async (arg) => {{
      const predicate = {predicate};
      const deadline = performance.now() + {ms};
      for (;;) {{
        const value = await predicate(arg);
        if (value) return value;
        if ({ms} && performance.now() > deadline) throw new Error("Timeout {ms}ms exceeded.");
        await new Promise((resolve) => setTimeout(resolve, 16));
      }}
    }}"""
    return self.evaluate_handle(source, arg)


def _allow_waiting_under_csp() -> None:
    from playwright.sync_api import Frame, Page

    Page.wait_for_function = _csp_safe_wait_for_function  # type: ignore[method-assign,assignment]
    Frame.wait_for_function = _csp_safe_wait_for_function  # type: ignore[method-assign,assignment]


def _record_csp(message: Any) -> None:
    text = message.text
    if "CSP violation" in text or "Content Security Policy" in text:
        CSP_VIOLATIONS.append(f"{message.location.get('url', '')}: {text}")


@pytest.fixture(autouse=True)
def _no_csp_violations(request: pytest.FixtureRequest) -> Iterator[None]:
    CSP_VIOLATIONS.clear()
    yield
    if "chromium" in request.fixturenames:
        assert CSP_VIOLATIONS == [], "the page broke the Content-Security-Policy"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` runs the suite twice, on SQLite then on PostgreSQL (TEST_DATABASE_URL).
    A test that asks for no database (no `database_url` fixture: the relay, the colour
    maths, the catalogues, nginx's config...) does the same thing in both passes, so it
    runs in the SQLite pass only; one that starts a PostgreSQL of its own (marked
    `postgres`, tests/faults/) in the PostgreSQL pass only. Every test that touches the
    configured database still runs on both. VITRINE_TEST_EVERY_PASS=1 runs all in both."""
    if os.environ.get("VITRINE_TEST_EVERY_PASS") == "1":
        return
    kept: list[pytest.Item] = []
    elsewhere: list[pytest.Item] = []
    for item in items:
        on_database = "database_url" in getattr(item, "fixturenames", ())
        own_postgres = item.get_closest_marker("postgres") is not None
        if on_database:
            kept.append(item)
        elif own_postgres:
            (kept if POSTGRES_URL else elsewhere).append(item)
        else:
            (elsewhere if POSTGRES_URL else kept).append(item)
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = kept
