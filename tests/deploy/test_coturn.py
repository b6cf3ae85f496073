"""deploy/turnserver.conf, run by Debian's coturn: relay addresses are allocated with
time-limited credentials minted from its static-auth-secret (sessions/turn.py, what every
media grant carries), over UDP and over TLS, and refused when altered or expired."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

import pytest
from aioice import stun
from aioice.turn import TurnClientUdpProtocol, create_turn_endpoint

from sessions.turn import turn_credentials
from tests.deploy.coturn import TurnServer, configured


@pytest.fixture(scope="module")
def turn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TurnServer]:
    with TurnServer(tmp_path_factory.mktemp("coturn")) as server:
        yield server


def _allocate(
    server: tuple[str, int], username: str, password: str, **options: object
) -> tuple[str, int]:
    async def run() -> tuple[str, int]:
        transport, _ = await asyncio.wait_for(
            create_turn_endpoint(
                asyncio.DatagramProtocol, server, username, password, lifetime=60, **options
            ),
            timeout=10,
        )
        try:
            relayed: tuple[str, int] = transport.get_extra_info("sockname")
            return relayed
        finally:
            transport.close()

    return asyncio.run(run())


def _credentials(ttl: int = 600) -> tuple[str, str]:
    return turn_credentials(configured("static-auth-secret"), "shopper:7", ttl)


def test_a_relay_address_is_allocated_over_udp(turn: TurnServer) -> None:
    host, port = _allocate(("127.0.0.1", turn.port), *_credentials())
    assert host == "127.0.0.1" and port in turn.relay_ports


def test_a_relay_address_is_allocated_over_tls(turn: TurnServer) -> None:
    context = ssl.create_default_context(cafile=str(turn.cert))
    server = ("127.0.0.1", turn.tls_port)
    host, port = _allocate(server, *_credentials(), transport="tcp", ssl=context)
    assert host == "127.0.0.1" and port in turn.relay_ports


def test_an_altered_credential_is_refused(turn: TurnServer) -> None:
    username, _ = _credentials()
    with pytest.raises(stun.TransactionFailed) as refused:
        _allocate(("127.0.0.1", turn.port), username, "bm90LXRoZS1obWFj")
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401


def test_another_identity_with_the_same_password_is_refused(turn: TurnServer) -> None:
    username, password = _credentials()
    expiry = username.split(":", 1)[0]
    with pytest.raises(stun.TransactionFailed) as refused:
        _allocate(("127.0.0.1", turn.port), f"{expiry}:shopper:8", password)
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401


def test_an_expired_credential_is_refused(turn: TurnServer) -> None:
    username, password = turn_credentials(configured("static-auth-secret"), "shopper:7", -5)
    with pytest.raises(stun.TransactionFailed) as refused:
        _allocate(("127.0.0.1", turn.port), username, password)
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401


@pytest.mark.parametrize("peer", ["10.1.2.3", "192.168.1.20", "172.20.0.5", "127.0.0.1"])
def test_private_and_loopback_peers_are_out_of_reach(turn: TurnServer, peer: str) -> None:
    """A TURN client may name any peer: coturn must refuse this host and private networks.
    Asked as a CreatePermission alone, so nothing would be sent to the peer even if it
    were allowed."""
    user, password = _credentials()
    server = ("127.0.0.1", turn.port)

    async def run() -> stun.TransactionFailed:
        transport, client = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: TurnClientUdpProtocol(
                server, username=user, password=password, lifetime=60, channel_refresh_time=50
            ),
            remote_addr=server,
        )
        try:
            await asyncio.wait_for(client.connect(), timeout=10)  # the allocation
            permission = stun.Message(
                message_method=stun.Method.CREATE_PERMISSION,
                message_class=stun.Class.REQUEST,
                attributes={"XOR-PEER-ADDRESS": (peer, 0)},
            )
            with pytest.raises(stun.TransactionFailed) as refused:
                await asyncio.wait_for(client.request_with_retry(permission), timeout=10)
            return refused.value
        finally:
            transport.close()

    assert asyncio.run(run()).response.attributes["ERROR-CODE"][0] == 403
