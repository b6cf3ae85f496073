"""Every request has an id: the trusted proxy's or a new one, echoed, on each log line."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import socketio
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import app_config, running_app
from tests.servers import free_port
from web.extensions import socketio as server_socketio
from web.logs import JsonFormatter, TextFormatter

NGINX = "127.0.0.1"
STRANGER = "198.51.100.20"
log = logging.getLogger("tests.request_ids")


@pytest.fixture
def proxied(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    config = app_config(database_url, tmp_path, TRUSTED_PROXY_COUNT=1)
    with running_app(config) as app:

        @app.get("/_test/log")
        def log_something() -> str:
            log.warning("inside the view")
            return "ok"

        yield app


def _get(app: Flask, peer: str, **headers: str):  # type: ignore[no-untyped-def]
    return app.test_client().get("/_test/log", environ_base={"REMOTE_ADDR": peer}, headers=headers)


def _records(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def test_a_trusted_proxy_s_request_id_is_kept_echoed_and_logged(
    proxied: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = _get(proxied, NGINX, **{"X-Request-Id": "3f2a9c1e4b5d6a7f8e9d0c1b2a3f4e5d"})
    assert response.headers["X-Request-Id"] == "3f2a9c1e4b5d6a7f8e9d0c1b2a3f4e5d"
    view_line = _records(caplog, "tests.request_ids")[-1]
    access_line = _records(caplog, "vitrine.access")[-1]
    assert view_line.request_id == access_line.request_id == response.headers["X-Request-Id"]  # type: ignore[attr-defined]
    assert access_line.endpoint == "log_something" and access_line.status == 200  # type: ignore[attr-defined]


def test_anyone_else_gets_a_new_id(proxied: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    forged = _get(proxied, STRANGER, **{"X-Request-Id": "chosen-by-the-client"})
    assert forged.headers["X-Request-Id"] != "chosen-by-the-client"
    assert len(forged.headers["X-Request-Id"]) == 32
    # From the proxy too, a value that is not a plain token is replaced (log injection).
    odd = _get(proxied, NGINX, **{"X-Request-Id": 'x" level="ERROR'})
    assert odd.headers["X-Request-Id"] != 'x" level="ERROR'
    ids = [r.request_id for r in _records(caplog, "tests.request_ids")]  # type: ignore[attr-defined]
    assert ids == [forged.headers["X-Request-Id"], odd.headers["X-Request-Id"]]


def test_each_request_has_its_own_id(proxied: Flask) -> None:
    ids = {_get(proxied, NGINX).headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_records_outside_a_request_have_no_id(
    proxied: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    log.warning("outside")
    assert caplog.records[-1].request_id is None  # type: ignore[attr-defined]


def test_json_lines_carry_the_id_and_the_access_fields(
    proxied: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = _get(proxied, NGINX, **{"X-Forwarded-For": "203.0.113.9"})
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert {line["request_id"] for line in lines} == {response.headers["X-Request-Id"]}
    access = next(line for line in lines if line["logger"] == "vitrine.access")
    assert access["method"] == "GET" and access["path"] == "/_test/log"
    assert access["status"] == 200 and access["remote_addr"] == "203.0.113.9"
    assert isinstance(access["duration_ms"], float)
    text = TextFormatter().format(caplog.records[0])
    assert f"[{response.headers['X-Request-Id']}]" in text


def test_the_query_string_is_never_logged(proxied: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    proxied.test_client().get("/_test/log?grant=secret-grant")
    assert "secret-grant" not in "".join(JsonFormatter().format(r) for r in caplog.records)


def test_socket_event_lines_carry_the_id_of_their_connection(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A real Socket.IO connection (WebSocket) through the app's middleware."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = app_config(database_url, tmp_path, TRUSTED_PROXY_COUNT=1, PUBLIC_URL=url)

    def on_probe(_data: object = None) -> str:
        log.warning("in a socket event")
        return "pong"

    with running_app(config) as app:
        server_socketio.on_event("_test_probe", on_probe)
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        client = socketio.SimpleClient()
        try:
            client.connect(
                url, transports=["websocket"], headers={"X-Request-Id": "socket-connection-7"}
            )
            assert client.call("_test_probe", {}, timeout=10) == "pong"
        finally:
            client.disconnect()
            server.shutdown()
    line = next(r for r in caplog.records if r.getMessage() == "in a socket event")
    assert line.request_id == "socket-connection-7"  # type: ignore[attr-defined]
