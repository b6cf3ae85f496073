"""deploy/nginx.conf, checked by `nginx -t` and serving real web nodes and relays.

Two gunicorn web nodes (as deployed: deploy/gunicorn.conf.py, behind one trusted proxy)
and a media relay, each a real process on a free port; Debian's nginx in front of them on
TLS with the shipped config. Both of the config's relay upstreams point at the one relay
(its path prefix is what differs). Clients on different loopback addresses (127.0.0.x)
are different clients to nginx.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import socketio

from streaming.media_files import write_marker
from tests.deploy.nginx import Site
from tests.servers import ROOT, RelayServer, WebServer, wait_port

TOKEN = "metrics-token-for-tests"
RELAY_TOKEN = "relay-internal-token-for-tests"


def test_nginx_accepts_the_shipped_config(tmp_path: Path) -> None:
    site = Site(tmp_path, web_ports=(18000, 18001), relay_ports=(18100, 18101))
    checked = site.check()
    output = checked.stderr + checked.stdout
    assert checked.returncode == 0, output
    assert "test is successful" in output
    assert "[warn]" not in output and "[emerg]" not in output, output


@dataclass
class Running:
    site: Site
    nodes: list[WebServer]
    node_logs: list[Path]
    relay: RelayServer
    relay_log: Path

    def lines_of(self, request_id: str) -> list[tuple[int, dict]]:
        """(node index, access line) for each node that logged this request id."""
        found = []
        for index, path in enumerate(self.node_logs):
            for line in path.read_text().splitlines():
                if line.startswith("{") and request_id in line:
                    entry = json.loads(line)
                    if entry["logger"] == "vitrine.access" and entry["request_id"] == request_id:
                        found.append((index, entry))
        return found


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("nginx")
    site = Site(folder / "site")
    database_url = f"sqlite:///{folder / 'vitrine.db'}"
    env = {
        "PUBLIC_URL": site.https,
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_FORMAT": "json",
        "METRICS_TOKEN": TOKEN,
        "UPLOAD_DIR": str(site.uploads),
        "RELAY_URL": f"{site.https}/media",
        "SCHEDULER": "0",
    }
    node_logs = [folder / f"web{n}.log" for n in (1, 2)]
    relay_log = folder / "relay.log"
    files = [path.open("wb") for path in [*node_logs, relay_log]]
    nodes = [
        WebServer(
            database_url,
            folder / f"web{n}",
            gunicorn=True,
            env=env,
            log=files[n],
            create_schema=n == 0,
        )
        for n in (0, 1)
    ]
    relay = RelayServer(folder / "media", internal_token=RELAY_TOKEN, log=files[2])
    site.web_ports = (nodes[0].port, nodes[1].port)
    site.relay_ports = (relay.port, relay.port)
    started: list[WebServer | RelayServer] = []
    try:
        for server in [*nodes, relay]:  # all three start at once, then each is awaited
            server.spawn()
            started.append(server)
        for server in started:
            server.wait_ready(timeout=90)  # three apps importing at once on two cores
        site.start()
        assert site.proc is not None
        wait_port(site.https_port, site.proc)
        yield Running(site, nodes, node_logs, relay, relay_log)
    finally:
        site.stop()
        for server in started:
            server.stop()
        for file in files:
            file.close()


def _logged(path: Path, text: str) -> None:
    """nginx and the relay write a request's line after answering it: read the file until
    the line is there (a file being appended to has no event to await)."""
    deadline = time.monotonic() + 10
    while text not in path.read_text():
        assert time.monotonic() < deadline, f"{path.name} never logged {text!r}"
        time.sleep(0.05)


def _get(running: Running, path: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.get(
        f"{running.site.https}{path}",
        verify=running.site.cert,
        timeout=10,
        allow_redirects=False,
        **kwargs,
    )


def _from(running: Running, source: str, path: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """A GET from another loopback address (another client to nginx), certificate checked."""
    context = ssl.create_default_context(cafile=str(running.site.cert))
    conn = http.client.HTTPSConnection(
        "127.0.0.1",
        running.site.https_port,
        context=context,
        source_address=(source, 0),
        timeout=10,
    )
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


def test_the_api_answers_over_tls_with_nginx_s_request_id(running: Running) -> None:
    response = _get(running, "/api/brands")
    assert response.status_code == 200 and response.json() == []
    request_id = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, kept by the node
    [(_node, line)] = running.lines_of(request_id)
    assert line["path"] == "/api/brands" and line["remote_addr"] == "127.0.0.1"
    # One id in the node's log and nginx's.
    _logged(running.site.logs / "vitrine.access.log", f"id={request_id}")


def test_plain_http_is_sent_to_https(running: Running) -> None:
    response = requests.get(
        f"http://127.0.0.1:{running.site.http_port}/login?next=/x",
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "https://127.0.0.1/login?next=/x"


def test_clients_spread_over_both_nodes_each_staying_on_one(running: Running) -> None:
    node_of: dict[str, int] = {}
    for n in range(2, 80):
        source = f"127.0.0.{n}"
        seen = set()
        for _ in range(2):
            # The client's own X-Forwarded-For is kept, nginx appends what it saw: the node
            # reads only that last hop.
            response = _from(running, source, "/api/brands", {"X-Forwarded-For": "192.0.2.66"})
            assert response.status == 200
            [(node, line)] = running.lines_of(response.headers["X-Request-Id"])
            assert line["remote_addr"] == source
            seen.add(node)
        assert len(seen) == 1, f"{source} moved between nodes"
        node_of[source] = seen.pop()
        if set(node_of.values()) == {0, 1}:
            break
    assert set(node_of.values()) == {0, 1}, "every client went to the same node"


def test_socketio_polls_then_upgrades_to_websocket_through_nginx(running: Running) -> None:
    tls = requests.Session()
    tls.verify = str(running.site.cert)  # Engine.IO's client checks the WebSocket's TLS with it
    tls.trust_env = False  # else REQUESTS_CA_BUNDLE, when set, wins over the session's verify
    client = socketio.Client(http_session=tls)
    client.connect(running.site.https, transports=["polling", "websocket"], wait_timeout=10)
    try:
        deadline = time.monotonic() + 10
        while client.eio.transport() != "websocket":  # the upgrade has no client-side event
            assert time.monotonic() < deadline, "never upgraded to WebSocket"
            time.sleep(0.05)
    finally:
        client.disconnect()
    direct = socketio.SimpleClient(http_session=tls)
    direct.connect(running.site.https, transports=["websocket"])
    try:
        assert direct.connected and direct.client is not None
        assert direct.client.transport() == "websocket"
    finally:
        direct.disconnect()


def test_static_files_and_uploads_come_from_disk(running: Running) -> None:
    css = _get(running, "/static/css/vitrine.css")
    assert css.status_code == 200
    assert css.content == (ROOT / "web/static/css/vitrine.css").read_bytes()
    assert "X-Request-Id" not in css.headers  # nginx's answer, no web node involved
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    vendor = _get(running, "/static/vendor/socket.io.min.js")
    assert vendor.status_code == 200 and "javascript" in vendor.headers["Content-Type"]

    (running.site.uploads / "products").mkdir(exist_ok=True)
    (running.site.uploads / "products" / "bag.png").write_bytes(b"\x89PNG\r\n\x1a\n-test")
    picture = _get(running, "/uploads/products/bag.png")
    assert picture.status_code == 200 and picture.content.endswith(b"-test")
    assert picture.headers["Content-Type"] == "image/png"
    assert "default-src 'none'" in picture.headers["Content-Security-Policy"]

    (running.site.uploads / "snapshots").mkdir(exist_ok=True)
    (running.site.uploads / "snapshots" / "s.jpg").write_bytes(b"private")
    for path in (
        "/uploads/snapshots/s.jpg",
        "/uploads//snapshots/s.jpg",
        "/uploads/%73napshots/s.jpg",
        "/uploads/products/../snapshots/s.jpg",
    ):
        assert _get(running, path).status_code == 404, path


def test_metrics_are_not_reachable_through_nginx(running: Running) -> None:
    for path in (
        "/metrics",
        "/media/metrics",
        "/media/2/metrics",
        "/media//metrics",
        "/media/%6detrics",
        "/media/2/%6detrics",
    ):
        response = _get(running, path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 404, path
    # The routes are there, on each node's and relay's own address, with their tokens.
    node = requests.get(
        f"{running.nodes[0].url}/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert node.status_code == 200 and "vitrine_http_requests_total" in node.text
    relay = requests.get(
        f"{running.relay.url}/metrics",
        headers={"Authorization": f"Bearer {RELAY_TOKEN}"},
        timeout=10,
    )
    assert relay.status_code == 200 and "relay_peers" in relay.text


def test_each_relay_is_reached_at_its_own_path(running: Running) -> None:
    assert _get(running, "/media/healthz").json() == {"status": "ok"}
    assert _get(running, "/media/2/healthz").json() == {"status": "ok"}
    for prefix in ("/media", "/media/2"):
        marker = f"probe{prefix.replace('/', '-')}"
        answer = _get(running, f"{prefix}/rooms/{marker}/thumbnail.jpg")
        assert answer.status_code in (401, 404) and answer.json()["error"]  # the relay's
        # The relay got the path without nginx's prefix.
        _logged(running.relay_log, f'"GET /rooms/{marker}/thumbnail.jpg"')


def test_hls_parts_are_cached_and_playlists_are_not(running: Running) -> None:
    """A public show's LL-HLS files as an ended show leaves them (the relay serves the
    folder once no stream is live): the part comes from the relay once, then from nginx's
    cache; the playlist comes from the relay every time."""
    room = "show-nginx-hls"
    write_marker(running.relay.media_dir, room, public=True, record=False)
    folder = running.relay.media_dir / "hls" / room
    folder.mkdir(parents=True)
    (folder / "0123456789ab-3.1.m4s").write_bytes(b"\x00\x00\x00\x08moof-part")
    (folder / "index.m3u8").write_text("#EXTM3U\n# first\n")
    for prefix in ("/media", "/media/2"):
        first = _get(running, f"{prefix}/hls/{room}/0123456789ab-3.1.m4s")
        assert first.status_code == 200 and first.content.endswith(b"moof-part")
        assert first.headers["X-Cache-Status"] == "MISS"
        again = _get(running, f"{prefix}/hls/{room}/0123456789ab-3.1.m4s")
        assert again.headers["X-Cache-Status"] == "HIT" and again.content == first.content
        assert again.headers["Content-Type"] == "video/iso.segment"
    # nginx had it from the relay once per relay path (a different upstream, its own key).
    log = running.relay_log.read_text()
    assert log.count(f'"GET /hls/{room}/0123456789ab-3.1.m4s"') == 2

    blocking = f"/media/hls/{room}/index.m3u8?_HLS_msn=3&_HLS_part=2"
    assert _get(running, blocking).text.endswith("# first\n")
    (folder / "index.m3u8").write_text("#EXTM3U\n# second\n")
    answer = _get(running, blocking)
    assert answer.text.endswith("# second\n") and "X-Cache-Status" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-cache"
    # A private room's part is never kept: asked twice, the relay is asked twice.
    private = "consult-nginx-hls"
    write_marker(running.relay.media_dir, private, public=False, record=False)
    for _ in range(2):
        response = _get(running, f"/media/hls/{private}/0123456789ab-3.1.m4s")
        assert response.status_code == 401 and response.headers["X-Cache-Status"] == "MISS"
