"""A fuzz of the relay's HTTP routes: whatever the path, method, headers or body, the
answer is never a 5xx (a 503 for a full room is the one refusal allowed to be 5xx, and
no generated request fills a room).

One real relay (the aiohttp app on a loopback port) on its own event loop serves every
example; hypothesis drives it from the test's thread.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from sessions.grants import issue_grant
from streaming.config import RelayConfig
from streaming.synthetic import publish

from .conftest import INTERNAL_TOKEN, SECRET, serve_relay

pytestmark = [pytest.mark.media]

ROOMS = ["show-fuzz", "consult-fuzz", "consult-fuzz-shopper"]
# Percent-encoded where raw bytes would make an invalid request line (aiohttp refuses
# those itself, before any handler runs).
NASTY = [
    "..",
    ".",
    "%2F",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "%",
    "%C3%A9",
    "a" * 300,
    "",
    "%20",
    "%5C",
]


class LoopRelay:
    """A relay served from a background thread's event loop."""

    def __init__(self, config: RelayConfig) -> None:
        self.loop = asyncio.new_event_loop()
        self.url = ""
        self._stop = asyncio.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self._serve(config),)
        )
        self._thread.start()
        assert self._ready.wait(20), "the relay did not start"

    async def _serve(self, config: RelayConfig) -> None:
        async with serve_relay(config) as relay:
            self.url = relay.url
            # A live room with a peer: the routes that look peers and rooms up have
            # something to find (a small, slow camera: the fuzz is about HTTP).
            grant = issue_grant(SECRET, room="show-fuzz", role="publish", identity="fuzz")
            camera = await publish(relay.url, grant, width=160, height=120, fps=5)
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await camera.close()

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> int:
        future = asyncio.run_coroutine_threadsafe(
            self._request(method, path, headers, body), self.loop
        )
        return future.result(timeout=30)

    async def _request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                method, URL(self.url + path, encoded=True), headers=headers, data=body
            ) as response,
        ):
            await response.read()
            return response.status

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)
        # Peer callbacks the camera's hang-up scheduled: let them finish, then close.
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()


@pytest.fixture(scope="module")
def live_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopRelay]:
    media: Path = tmp_path_factory.mktemp("fuzz") / "media"
    config = RelayConfig(grant_secret=SECRET, media_dir=media, internal_token=INTERNAL_TOKEN)
    relay = LoopRelay(config)
    yield relay
    relay.close()


def segment() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(ROOMS + NASTY),
        st.text(max_size=40).map(lambda t: quote(t, safe="")),
        st.text(alphabet="abc-_.%2F/", max_size=20),
    )


ROUTES = [
    ("POST", "/signal"),
    ("POST", "/signal"),
    ("POST", "/signal"),
    ("DELETE", "/signal/{a}"),
    ("GET", "/rooms/{a}/status"),
    ("POST", "/rooms/{a}/snapshot"),
    ("POST", "/rooms/{a}/end"),
    ("DELETE", "/rooms/{a}/media"),
    ("POST", "/rooms/{a}/pull"),
    ("GET", "/rooms/{a}/pull"),
    ("DELETE", "/rooms/{a}/pull"),
    ("GET", "/rooms/{a}/thumbnail.jpg"),
    ("GET", "/hls/{a}/{b}"),
    ("GET", "/hls/{a}/index.m3u8"),
    ("GET", "/recordings/{a}"),
    ("GET", "/recordings/{a}-20260101T000000Z.mp4"),
    ("GET", "/metrics"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/{a}"),
    ("POST", "/{a}/{b}"),
]
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]


@st.composite
def requests_(draw: st.DrawFn) -> tuple[str, str]:
    """A route's own method most of the time (so the handlers, not the router, are
    fuzzed), any method sometimes."""
    method, template = draw(st.sampled_from(ROUTES))
    if draw(st.integers(0, 4)) == 0:
        method = draw(st.sampled_from(METHODS))
    path = template.format(a=draw(segment()), b=draw(segment()))
    if draw(st.booleans()):
        path += "?" + draw(
            st.sampled_from(["grant=", "grant=x.y", "grant=%ZZ", "a=1&grant=%C3%A9"])
        )
    return method, path


@st.composite
def tokens(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["grant", "internal", "text", "expired"]))
    if kind == "internal":
        return INTERNAL_TOKEN
    if kind == "text":
        return draw(
            st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=80)
        )
    room = draw(st.sampled_from([*ROOMS, "../x", "a/b", ""]))
    role = draw(st.sampled_from(["publish", "view"]))
    ttl = -10 if kind == "expired" else 60
    return issue_grant(
        SECRET, room=room, role=role, identity="fuzz", ttl=ttl, public=draw(st.booleans())
    )


@st.composite
def header_sets(draw: st.DrawFn) -> dict[str, str]:
    headers: dict[str, str] = {}
    auth = draw(st.sampled_from(["none", "bearer", "odd"]))
    if auth == "bearer":
        headers["Authorization"] = f"Bearer {draw(tokens())}"
    elif auth == "odd":
        headers["Authorization"] = draw(
            st.sampled_from(["Bearer", "Bearer ", "Basic x", "bearer  x"])
        )
    if draw(st.booleans()):
        headers["Content-Type"] = draw(
            st.sampled_from(
                ["application/json", "text/plain", "multipart/form-data", "x/y; charset=bogus"]
            )
        )
    if draw(st.booleans()):
        headers["Origin"] = draw(st.sampled_from(["http://evil.example", "null"]))
    return headers


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["none", "bytes", "json", "offer", "deep", "huge"]))
    if kind == "none":
        return None
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "deep":
        depth = draw(st.integers(min_value=500, max_value=100_000))
        return draw(st.sampled_from([b"[" * depth, b'{"a":' * depth, b"[" * depth + b"]" * depth]))
    if kind == "huge":
        return b'{"sdp": "' + b"x" * (300 * 1024) + b'"}'
    offer: dict[str, Any] = {
        "grant": draw(tokens()),
        "sdp": draw(
            st.sampled_from(["", "v=0", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"])
            | st.text(max_size=60)
        ),
        "type": draw(st.sampled_from(["offer", "answer", 1, None])),
    }
    if draw(st.booleans()):
        offer["room"] = draw(st.sampled_from(ROOMS) | JSON_VALUES)
    return json.dumps(offer).encode()


# The camera's RTP packets (aiortc, in the relay's thread) draw from the `random` module
# while hypothesis generates an example in this thread; nothing here depends on it.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(request=("POST", "/signal"), headers={}, body=b"[" * 100_000)
@example(
    request=("POST", "/signal"),
    headers={},
    body=b'{"grant": "\xc3\xa9.x", "sdp": "v=0", "type": "offer"}',
)
@example(request=("GET", "/rooms/%2E%2E%2F%2E%2E/thumbnail.jpg"), headers={}, body=None)
@example(request=("GET", "/rooms/show-fuzz/status?grant=%C3%A9"), headers={}, body=None)
@example(request=("POST", "/signal"), headers={"Content-Type": "x/y; charset=bogus"}, body=b"{}")
@given(request=requests_(), headers=header_sets(), body=bodies())
def test_no_request_makes_the_relay_answer_5xx(
    live_relay: LoopRelay,
    request: tuple[str, str],
    headers: dict[str, str],
    body: bytes | None,
) -> None:
    method, path = request
    status = live_relay.request(method, path, headers, body)
    assert status < 500, (method, path, headers, (body or b"")[:80])
