"""TURN credentials (coturn's REST scheme) on every media grant, and the relay's public
address behind 1:1 NAT. coturn itself checks them in tests/deploy/test_coturn.py and the
relay-only browser test (tests/browser/test_turn_relay_only.py)."""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from sessions.shows.lifecycle import do_start_show
from sessions.turn import ice_servers, parse_urls, turn_credentials
from streaming.config import ConfigError as RelayConfigError
from streaming.config import RelayConfig
from streaming.relay import announce_public_ip
from tests.conftest import app_config, running_app
from tests.factories import OPERATOR, Factory
from web.config import ConfigError, load_config

SECRET = "turn-test-secret"
URLS = ["turn:turn.example.com:3478", "turns:turn.example.com:5349?transport=tcp"]


def coturn_password(secret: str, username: str) -> str:
    """What coturn computes for a use-auth-secret user name (its README.turnserver)."""
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), "sha1").digest()).decode()


def test_credentials_are_the_coturn_rest_scheme() -> None:
    username, password = turn_credentials(SECRET, "shopper:12", 600, now=1_800_000_000)
    assert username == "1800000600:shopper-12"  # expiry first; one ":" only
    assert password == coturn_password(SECRET, username)
    # Nothing in an identity can add a field or grow the name without bound.
    odd, _ = turn_credentials(SECRET, "a:b c/" + "x" * 200, 60, now=0)
    assert odd.count(":") == 1 and len(odd.split(":")[1]) <= 64


def test_ice_servers_add_turn_only_with_a_secret() -> None:
    static = [{"urls": "stun:stun.example.com:3478"}]
    plain = ice_servers(static, turn_urls=URLS, turn_secret="", ttl_seconds=60, identity="x")
    assert plain == static
    servers = ice_servers(static, turn_urls=URLS, turn_secret=SECRET, ttl_seconds=60, identity="x")
    assert servers[0] == static[0] and servers[1]["urls"] == URLS
    assert parse_urls(" turn:a:3478, turns:b:5349?transport=tcp ") == [
        "turn:a:3478",
        "turns:b:5349?transport=tcp",
    ]
    with pytest.raises(ValueError):
        parse_urls("stun:a:3478")


@pytest.fixture
def turn_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    config = app_config(
        database_url,
        tmp_path,
        TURN_SECRET=SECRET,
        TURN_URLS=",".join(URLS),
        TURN_TTL_SECONDS=900,
        ICE_TRANSPORT_POLICY="relay",
    )
    with running_app(config) as app:
        yield app


def test_each_show_grant_carries_credentials_of_its_own(turn_app: Flask) -> None:
    from sqlmodel import Session

    with Session(turn_app.extensions["vitrine.engine"], expire_on_commit=False) as session:
        seed = Factory(session)
        brand = seed.brand()
        live = do_start_show(session, OPERATOR, seed.show(brand))
        session.commit()
        live_id = live.id

    def grant() -> dict[str, object]:
        http = turn_app.test_client()
        assert http.get(f"/api/live-sessions/{live_id}").status_code == 200
        response = http.post(f"/api/live-sessions/{live_id}/media-grant", json={"role": "view"})
        assert response.status_code == 200, response.json
        assert response.json is not None
        return dict(response.json)

    before = int(time.time())
    first, second = grant(), grant()
    assert first["ice_transport_policy"] == "relay"
    (turn,) = first["ice_servers"]  # type: ignore[misc]
    assert turn["urls"] == URLS
    expiry, identity = turn["username"].split(":", 1)
    assert before + 900 <= int(expiry) <= int(time.time()) + 900
    assert turn["credential"] == coturn_password(SECRET, turn["username"])
    # Two guests (not shoppers yet), two names: no credential is shared.
    assert identity.startswith("guest-")
    assert second["ice_servers"][0]["username"] != turn["username"]  # type: ignore[index]


def test_turn_settings_are_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINE_ENV", "testing")
    for name, value, message in [
        ("TURN_URLS", "turn:a:3478", "needs TURN_SECRET"),
        ("ICE_TRANSPORT_POLICY", "none", 'all" or "relay'),
        ("TURN_TTL_SECONDS", "5", "at least 60"),
    ]:
        with monkeypatch.context() as env:
            env.setenv(name, value)
            with pytest.raises(ConfigError, match=message):
                load_config()
    with pytest.raises(RelayConfigError, match="needs TURN_SECRET"):
        RelayConfig.from_env({"MEDIA_GRANT_SECRET": "s", "TURN_URLS": "turn:a:3478"})
    relay = RelayConfig.from_env(
        {"MEDIA_GRANT_SECRET": "s", "TURN_SECRET": SECRET, "TURN_URLS": "turn:a:3478"}
    )
    assert relay.turn_urls == ("turn:a:3478",) and relay.turn_ttl_seconds == 43200


ANSWER = (
    "v=0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 97\r\n"
    "a=candidate:a1b2 1 udp 2130706431 10.0.0.10 50001 typ host\r\n"
    "a=candidate:c3d4 1 udp 2130706431 fd00::2 50002 typ host\r\n"
    "a=end-of-candidates\r\n"
)


def test_the_relay_announces_its_public_address_behind_one_to_one_nat() -> None:
    announced = announce_public_ip(ANSWER, "203.0.113.10").split("\r\n")
    host = announced.index("a=candidate:a1b2 1 udp 2130706431 10.0.0.10 50001 typ host")
    # Right after the private host candidate: the same port at the public address.
    reflexive = announced[host + 1]
    priority = 2130706431 - (126 << 24) + (100 << 24)
    assert reflexive == (
        f"a=candidate:a1b2n 1 udp {priority} 203.0.113.10 50001"
        " typ srflx raddr 10.0.0.10 rport 50001"
    )
    assert sum("203.0.113.10" in line for line in announced) == 1  # IPv6 is not NATed
    with pytest.raises(RelayConfigError, match="IPv4"):
        RelayConfig.from_env({"MEDIA_GRANT_SECRET": "s", "RELAY_PUBLIC_IP": "example.com"})
    assert RelayConfig.from_env(
        {"MEDIA_GRANT_SECRET": "s", "RELAY_PUBLIC_IP": "203.0.113.10"}
    ).public_ip
