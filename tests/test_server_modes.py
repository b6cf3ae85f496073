"""A real web node starts in each async mode and serves Socket.IO over WebSocket.

As deployed (deploy/gunicorn.conf.py) the node is gunicorn's plain gevent worker; the
WebSocket upgrade is Engine.IO's own, with simple-websocket (gevent-websocket is not
installed: with it, Engine.IO would expect its worker and refuse every WebSocket).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import requests
import socketio
import websocket

from tests.servers import ROOT, WebServer, free_port

TOKEN = "metrics-token-for-tests"


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_node_serves_pages_and_socketio(mode: str, database_url: str, tmp_path) -> None:
    with WebServer(database_url, tmp_path, async_mode=mode) as server:
        assert requests.get(f"{server.url}/api/brands", timeout=5).json() == []
        client = socketio.SimpleClient()
        client.connect(server.url, transports=["websocket"])
        assert client.connected and client.client is not None
        assert client.client.transport() == "websocket"
        client.disconnect()


def test_the_nodes_connections_send_without_waiting_for_acks() -> None:
    """web/serve.py's listener turns Nagle's algorithm off, and every connection it
    accepts has it off too (Linux hands the option on): a response's body, written after
    its headers, is not held for the client's delayed ACK (40 ms a keep-alive request)."""
    import socket

    from web.serve import nodelay_listener

    listener = nodelay_listener("127.0.0.1", 0)
    client = socket.create_connection(listener.getsockname(), timeout=5)
    accepted, _ = listener.accept()
    try:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        for sock in (accepted, client, listener):
            sock.close()


def _socket_gauge(server: WebServer) -> dict[str, float]:
    text = requests.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ).text
    gauges = {}
    for line in text.splitlines():
        if line.startswith("vitrine_socket_connections{"):
            labels, value = line.rsplit(" ", 1)
            gauges[labels.split('"')[1]] = float(value)
    return gauges


def test_gevent_websocket_is_not_installed() -> None:
    assert importlib.util.find_spec("geventwebsocket") is None


def test_gunicorn_gevent_worker_speaks_websocket(database_url: str, tmp_path) -> None:
    with WebServer(database_url, tmp_path, gunicorn=True, env={"METRICS_TOKEN": TOKEN}) as server:
        # The raw handshake: 101 Switching Protocols, then Engine.IO's open packet and
        # Socket.IO's namespace connect, both over the WebSocket.
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
            origin=server.url,
            timeout=10,
        )
        try:
            assert ws.getstatus() == 101
            assert ws.getheaders()["upgrade"].lower() == "websocket"
            opened = ws.recv()
            assert opened.startswith("0")
            assert "websocket" not in json.loads(opened[1:])["upgrades"]  # already on it
            ws.send("40")
            assert ws.recv().startswith("40{")  # namespace "/" connected
            assert _socket_gauge(server) == {"websocket": 1.0, "polling": 0.0}
        finally:
            ws.close()
        assert _eventually(lambda: _socket_gauge(server), {"websocket": 0.0, "polling": 0.0})

        # A browser's way: long-polling first, then the upgrade to WebSocket.
        client = socketio.Client()
        client.connect(server.url, transports=["polling", "websocket"], wait_timeout=10)
        try:
            assert client.connected
            assert _eventually(lambda: client.eio.transport(), "websocket")
            assert _eventually(lambda: _socket_gauge(server), {"websocket": 1.0, "polling": 0.0})
        finally:
            client.disconnect()


def _eventually(read: Callable[[], object], expected: object, timeout: float = 10) -> bool:
    """The upgrade and the server's bookkeeping finish in the background, with no event to
    await from here: read again until the value comes (bounded)."""
    deadline = time.monotonic() + timeout
    while (value := read()) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r}, expected {expected!r}")
        time.sleep(0.05)
    return True


def test_gunicorn_refuses_to_start_beside_gevent_websocket(tmp_path) -> None:
    """An old virtualenv may still hold it: the node says so instead of refusing sockets."""
    (tmp_path / "geventwebsocket").mkdir()
    (tmp_path / "geventwebsocket" / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{free_port()}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "pip uninstall gevent-websocket" in done.stderr
