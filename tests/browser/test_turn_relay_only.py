"""TURN with time-limited credentials, for real: Debian's coturn with the shipped
deploy/turnserver.conf (use-auth-secret), a web node and a relay that share its secret, and
Chromium told by its media grant to use TURN only (iceTransportPolicy "relay"). The show
page gets its grant, gathers only relayed candidates on coturn, and decodes the show's
frames through it; coturn logs the grant's own time-limited user name."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aioice.ice import get_host_addresses

from sessions.shows.lifecycle import do_start_show
from tests.browser.conftest import DESKTOP, GRANT_SECRET, RELAY_TOKEN, Relay
from tests.browser.test_live_journey import video_is_playing
from tests.deploy.coturn import TurnServer
from tests.factories import OPERATOR, Factory
from tests.servers import RelayServer, WebServer

pytestmark = [pytest.mark.browser, pytest.mark.media, pytest.mark.slow]

# Every RTCPeerConnection the page makes, so the test can read its configuration and stats
# (a test's observer: the page's own code is unchanged).
KEEP_PEERS = """(() => {
  const Native = window.RTCPeerConnection;
  window.__peers = [];
  window.RTCPeerConnection = class extends Native {
    constructor(config) { super(config); window.__peers.push(this); }
  };
})();"""

# The selected pair of the newest connection: its local candidate's type, frames decoded.
READ_STATS = """async () => {
  const pc = window.__peers[window.__peers.length - 1];
  const stats = await pc.getStats();
  let pair = null, decoded = 0;
  for (const s of stats.values()) {
    if (s.type === "transport" && s.selectedCandidatePairId)
      pair = stats.get(s.selectedCandidatePairId);
    if (s.type === "inbound-rtp" && s.kind === "video") decoded = s.framesDecoded || 0;
  }
  const local = pair ? stats.get(pair.localCandidateId) : null;
  return {
    policy: pc.getConfiguration().iceTransportPolicy,
    local: local ? local.candidateType : null,
    offered: pc.localDescription ? pc.localDescription.sdp : "",
    decoded,
  };
}"""


@pytest.fixture
def turn(tmp_path: Path) -> Iterator[TurnServer]:
    # The relay's own addresses are the peers coturn must reach (deploy/turnserver.conf:
    # "allow exactly it"); everything else private stays refused.
    peers = tuple(get_host_addresses(use_ipv4=True, use_ipv6=False))
    folder = tmp_path / "coturn"
    folder.mkdir()
    with TurnServer(folder, allowed_peers=peers, extra=("--verbose",)) as server:
        yield server


@pytest.fixture
def relay(tmp_path: Path, turn: TurnServer) -> Iterator[Relay]:
    """The relay with the TURN secret: its peer connections get credentials of their own."""
    server = RelayServer(
        tmp_path / "media",
        grant_secret=GRANT_SECRET,
        internal_token=RELAY_TOKEN,
        env={"RELAY_ALLOWED_ORIGINS": "*", "TURN_SECRET": turn.secret, "TURN_URLS": turn.url},
    )
    server.spawn().wait_ready()
    assert server.proc is not None
    try:
        yield Relay(server.url, server.proc)
    finally:
        server.stop()


@pytest.fixture
def web(
    database_url: str, tmp_path: Path, relay: Relay, turn: TurnServer, db_session: Any
) -> Iterator[WebServer]:
    env = {
        "RELAY_URL": relay.url,
        "RELAY_INTERNAL_TOKEN": RELAY_TOKEN,
        "TURN_SECRET": turn.secret,
        "TURN_URLS": turn.url,
        "TURN_TTL_SECONDS": "600",
        "ICE_TRANSPORT_POLICY": "relay",
    }
    with WebServer(
        database_url, tmp_path, async_mode="gevent", env=env, ready_timeout=90
    ) as server:
        yield server


def test_a_viewer_forced_to_relay_only_ice_plays_the_show_through_coturn(
    web: WebServer, turn: TurnServer, seed: Factory, chromium: Any, synthetic_camera: Any
) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    show = seed.show(brand, title="Through TURN")
    live = do_start_show(seed.session, OPERATOR, show)
    seed.session.commit()
    synthetic_camera(live.room)

    context = chromium.new_context(**DESKTOP)
    context.add_init_script(KEEP_PEERS)
    page = context.new_page()
    grants: list[dict[str, Any]] = []
    page.on(
        "response",
        lambda r: grants.append(r.json()) if r.url.endswith("/media-grant") and r.ok else None,
    )
    page.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
    video_is_playing(page, "#player", timeout=45_000)
    stats = page.evaluate(READ_STATS)
    # Frames keep being decoded through the relayed pair.
    page.wait_for_function(
        f"""async () => {{
          const pc = window.__peers[window.__peers.length - 1];
          for (const s of (await pc.getStats()).values())
            if (s.type === "inbound-rtp" && s.kind === "video")
              return s.framesDecoded > {stats["decoded"]} + 15;
          return false;
        }}""",
        timeout=20_000,
    )
    stats = page.evaluate(READ_STATS)
    context.close()

    # The grant the page was given: coturn's URL with a time-limited user name of its own.
    assert grants, "the page asked for no media grant"
    grant = grants[-1]
    assert grant["ice_transport_policy"] == "relay"
    (server,) = [s for s in grant["ice_servers"] if s.get("username")]
    assert server["urls"] == [turn.url]
    expiry, identity = server["username"].split(":", 1)
    assert expiry.isdigit() and identity.startswith(("shopper-", "guest-"))
    # The browser used it as told: only relayed candidates offered, a relayed pair chosen.
    assert stats["policy"] == "relay"
    candidates = re.findall(r"a=candidate:\S+ \d+ \S+ \d+ \S+ \d+ typ (\w+)", stats["offered"])
    assert candidates and set(candidates) == {"relay"}, json.dumps(candidates)
    assert stats["local"] == "relay"
    # coturn allocated for that very user name (its log names the user of each session).
    turn.wait_log(f"user <{server['username']}>: incoming packet ALLOCATE processed, success")
