"""Real servers and real Chromium for the journey tests.

`relay` starts the media relay (`python -m streaming`) on a free port with the same
grant secret as the web node; `web` starts a gevent web node that points the
browser at it; `chromium` is Debian's Chromium with a fake camera and microphone.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sessions.db import make_engine
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: F401
from tests.factories import Factory
from tests.schema import install_schema
from tests.servers import ROOT, RelayServer, WebServer, stop_process

GRANT_SECRET = "test-media-secret"
RELAY_TOKEN = "test-relay-internal-token"  # web node and relay share it
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


def take_screenshots() -> bool:
    """Only on request (VITRINE_SCREENSHOTS=1), so test runs do not rewrite docs/."""
    return os.environ.get("VITRINE_SCREENSHOTS") == "1"


@dataclass
class Relay:
    url: str
    proc: subprocess.Popen[bytes]


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    server = RelayServer(
        tmp_path / "media",
        grant_secret=GRANT_SECRET,
        internal_token=RELAY_TOKEN,
        env={"RELAY_ALLOWED_ORIGINS": "*"},
    )
    with server:
        assert server.proc is not None
        yield Relay(server.url, server.proc)


@pytest.fixture
def db_session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    install_schema(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def seed(db_session: Session) -> Factory:
    return Factory(db_session)


@pytest.fixture
def web(
    database_url: str, tmp_path: Path, relay: Relay, db_session: Session
) -> Iterator[WebServer]:
    """A gevent web node that sends browsers to the test relay."""
    with WebServer(
        database_url,
        tmp_path,
        async_mode="gevent",
        env={"RELAY_URL": relay.url, "RELAY_INTERNAL_TOKEN": RELAY_TOKEN},
    ) as server:
        yield server


@pytest.fixture
def web_only(database_url: str, tmp_path: Path, db_session: Session) -> Iterator[WebServer]:
    """A gevent web node for journeys without video."""
    with WebServer(database_url, tmp_path, async_mode="gevent") as server:
        yield server


@pytest.fixture
def synthetic_camera(relay: Relay) -> Iterator[Any]:
    """`start(room)` publishes the relay's synthetic test card into a room."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(room: str) -> None:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streaming.synthetic",
                    "--relay",
                    relay.url,
                    "--room",
                    room,
                    "--grant-secret",
                    GRANT_SECRET,
                    "--fps",
                    "15",
                    # The rooms these tests publish into are shows: public, recorded.
                    "--public",
                    "--record",
                ],
                cwd=ROOT,
            )
        )

    yield start
    for proc in procs:
        stop_process(proc)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_origin(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain static site on its own port: the brand's website that embeds a show."""
    site = tmp_path / "brand-site"
    site.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", site
    server.shutdown()
    server.server_close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    # From the site itself, as a file: the CSP refuses inline script, which path= would be.
    origin = "/".join(page.url.split("/")[:3])
    page.add_script_tag(url=f"{origin}/static/vendor/axe.min.js")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def sign_in(page: Any, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(Factory.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{next_path}")
