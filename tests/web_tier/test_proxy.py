"""The forwarded client address and scheme are believed only from configured proxies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, jsonify, request

from tests.conftest import app_config, running_app
from web.config import ConfigError, load_config
from web.proxy import is_trusted, parse_networks

CLIENT = "203.0.113.9"
NGINX = "127.0.0.1"
ELSEWHERE = "198.51.100.20"  # a peer on the network that is not the proxy


def _echo_app(database_url: str, tmp_path: Path, **overrides: object) -> Iterator[Flask]:
    with running_app(app_config(database_url, tmp_path, **overrides)) as app:

        @app.get("/_test/whoami")
        def whoami():  # type: ignore[no-untyped-def]
            return jsonify(
                addr=request.remote_addr,
                scheme=request.scheme,
                forwarded=request.headers.get("X-Forwarded-For"),
            )

        yield app


@pytest.fixture
def behind_nginx(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from _echo_app(database_url, tmp_path, TRUSTED_PROXY_COUNT=1)


@pytest.fixture
def behind_two(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from _echo_app(
        database_url, tmp_path, TRUSTED_PROXY_COUNT=2, TRUSTED_PROXIES="10.1.0.0/16, ::1"
    )


@pytest.fixture
def direct(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from _echo_app(database_url, tmp_path)


def _whoami(app: Flask, peer: str, **headers: str) -> dict:
    response = app.test_client().get(
        "/_test/whoami", environ_base={"REMOTE_ADDR": peer}, headers=headers
    )
    assert response.status_code == 200
    return response.get_json()


def test_the_proxy_s_forwarded_address_and_scheme_are_used(behind_nginx: Flask) -> None:
    seen = _whoami(behind_nginx, NGINX, **{"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"})
    assert seen["addr"] == CLIENT and seen["scheme"] == "https"


def test_only_the_hop_nginx_appended_counts(behind_nginx: Flask) -> None:
    # The client sent its own X-Forwarded-For; nginx appended the real address.
    seen = _whoami(behind_nginx, NGINX, **{"X-Forwarded-For": f"10.9.9.9, {CLIENT}"})
    assert seen["addr"] == CLIENT


def test_a_peer_that_is_not_a_trusted_proxy_cannot_forge_its_address(behind_nginx: Flask) -> None:
    seen = _whoami(
        behind_nginx, ELSEWHERE, **{"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
    )
    assert seen == {"addr": ELSEWHERE, "scheme": "http", "forwarded": None}


def test_with_no_proxy_configured_the_headers_are_dropped(direct: Flask) -> None:
    seen = _whoami(direct, NGINX, **{"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"})
    assert seen == {"addr": NGINX, "scheme": "http", "forwarded": None}


def test_two_hops_from_a_trusted_network(behind_two: Flask) -> None:
    chain = {"X-Forwarded-For": f"10.9.9.9, {CLIENT}, 10.1.2.3"}
    assert _whoami(behind_two, "10.1.0.7", **chain)["addr"] == CLIENT
    # Loopback is not in this node's list: the same headers from it are ignored.
    assert _whoami(behind_two, NGINX, **chain)["addr"] == NGINX
    assert _whoami(behind_two, "::1", **chain)["addr"] == CLIENT


def test_trusted_networks_parse_and_match() -> None:
    networks = parse_networks("127.0.0.0/8, ::1 10.0.0.5")
    assert is_trusted("127.0.0.1", networks) and is_trusted("127.8.0.2", networks)
    assert is_trusted("::ffff:127.0.0.1", networks)  # a dual-stack listener's IPv4 peer
    assert is_trusted("10.0.0.5", networks) and not is_trusted("10.0.0.6", networks)
    assert not is_trusted("", networks) and not is_trusted("unix:/run/x", networks)


def test_a_bad_trusted_proxy_entry_stops_the_node(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VITRINE_ENV", "testing")
    monkeypatch.setenv("VITRINE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1, nginx.internal")
    with pytest.raises(ConfigError, match=r"nginx\.internal"):
        load_config({"SECRET_KEY": "k", "MEDIA_GRANT_SECRET": "m"})
