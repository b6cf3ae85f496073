"""A real web node starts in each async mode and serves Socket.IO over WebSocket."""

from __future__ import annotations

import pytest
import socketio

from tests.servers import WebServer


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_node_serves_pages_and_socketio(mode: str, database_url: str, tmp_path) -> None:
    with WebServer(database_url, tmp_path, async_mode=mode) as server:
        import requests

        assert requests.get(f"{server.url}/api/brands", timeout=5).json() == []
        client = socketio.SimpleClient()
        client.connect(server.url, transports=["websocket"])
        assert client.connected
        client.disconnect()


def test_gunicorn_gevent_worker(database_url: str, tmp_path) -> None:
    with WebServer(database_url, tmp_path, gunicorn=True) as server:
        client = socketio.SimpleClient()
        client.connect(server.url, transports=["websocket"])
        assert client.connected
        client.disconnect()
