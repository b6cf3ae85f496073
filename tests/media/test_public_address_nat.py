"""A relay on a cloud VM behind its provider's 1:1 NAT (`RELAY_PUBLIC_IP`), reached by a
publisher and a viewer at home behind their own router: real namespaces, real NAT rules
(nftables), a real relay process and real aiortc peers (tests/media/netns.py).

With the public address announced, both peers connect through it and the viewer decodes
the publisher's frames; without it, the relay's answer names only its private address,
which nothing outside can reach, and the connection fails.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import aioice.stun
import pytest
from aiortc import RTCPeerConnection

from sessions.grants import Role, issue_grant
from streaming.client import view
from streaming.synthetic import publish
from tests.servers import ROOT, START_TIMEOUT, stop_process

from . import netns
from .conftest import SECRET, connected, read_stamps

pytestmark = [pytest.mark.media, pytest.mark.slow]

REASON = netns.unavailable_reason()
if REASON is not None:
    pytestmark.append(pytest.mark.skip(reason=f"no 1:1 NAT in namespaces here: {REASON}"))

PORT = 8001  # the relay's namespace is its own: no other process can hold this port there
RELAY_URL = f"http://{netns.RELAY_PUBLIC}:{PORT}"


@pytest.fixture
def network() -> Iterator[netns.NatNetwork]:
    with netns.nat_network() as network:
        yield network


def start_relay(
    network: netns.NatNetwork, media: Path, public_ip: str | None
) -> subprocess.Popen[bytes]:
    env = {
        # Nothing of this machine's own services is reachable from the private network.
        **{k: v for k, v in os.environ.items() if "REDIS" not in k},
        "MEDIA_GRANT_SECRET": SECRET,
        "RELAY_MEDIA_DIR": str(media),
        **({"RELAY_PUBLIC_IP": public_ip} if public_ip else {}),
    }
    command = [sys.executable, "-m", "streaming", "--host", netns.RELAY_PRIVATE]
    # The child keeps its own copy of the descriptor: this one is closed at once.
    with (media.parent / "relay.log").open("wb") as log:
        return network.popen("relay", [*command, "--port", str(PORT)], env=env, log=log, cwd=ROOT)


async def until_relay_answers(proc: subprocess.Popen[bytes]) -> None:
    """From outside, through the NAT: the relay's HTTP answers at its public address."""
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession() as http:
        while True:
            assert proc.poll() is None, "the relay exited"
            try:
                async with http.get(f"{RELAY_URL}/healthz", timeout=aiohttp.ClientTimeout(2)):
                    return
            except (aiohttp.ClientError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.2)  # a process starting: no event to await from here


def grant(role: Role) -> str:
    return issue_grant(SECRET, room="show", role=role, identity=f"{role}-at-home", ttl=60)


def candidate_addresses(sdp: str) -> set[str]:
    return {line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")}


def remote_address(pc: RTCPeerConnection) -> str:
    """The relay's address on the pair ICE chose (aioice has no public accessor)."""
    transport = pc.getTransceivers()[0].receiver.transport.transport
    pair = transport._connection._nominated[1]
    return str(pair.remote_candidate.host)


def test_peers_outside_reach_the_relay_at_its_public_address(
    network: netns.NatNetwork, tmp_path: Path
) -> None:
    relay = start_relay(network, tmp_path / "media", netns.RELAY_PUBLIC)

    async def at_home() -> dict[str, Any]:
        await until_relay_answers(relay)
        publication = await publish(RELAY_URL, grant("publish"), width=320, height=240)
        viewing = await view(RELAY_URL, grant("view"))
        try:
            await asyncio.gather(
                connected(publication.pc, timeout=60), connected(viewing.pc, timeout=60)
            )
            stamps = await read_stamps(viewing.video, 10, timeout=30)
            return {
                "answer": viewing.pc.remoteDescription.sdp,
                "stamps": [s.counter for s in stamps],
                "sent": publication.video.counter,
                "pairs": {remote_address(publication.pc), remote_address(viewing.pc)},
            }
        finally:
            await viewing.close()
            await publication.close()

    try:
        seen = network.run("viewer", at_home)
    finally:
        stop_process(relay)
    # The relay announces its private host candidate and the public one beside it.
    assert candidate_addresses(seen["answer"]) == {netns.RELAY_PRIVATE, netns.RELAY_PUBLIC}
    # Both peers talk to the public address: nothing else reaches the relay from home.
    assert seen["pairs"] == {netns.RELAY_PUBLIC}
    counters = seen["stamps"]
    assert len(counters) == 10 and counters == sorted(counters)
    assert counters[-1] < seen["sent"]  # the publisher's own frames, decoded


@pytest.mark.timeout(400)
def test_without_the_public_address_peers_outside_cannot_connect(
    network: netns.NatNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This side's connectivity checks give up after 3 retransmissions (0.5 + 1 + 2 s)
    # instead of aioice's 6 (about 40 s a pair): failing is what is tested, not patience.
    monkeypatch.setattr(aioice.stun, "RETRY_MAX", 2)
    relay = start_relay(network, tmp_path / "media", None)

    async def at_home() -> dict[str, Any]:
        await until_relay_answers(relay)
        viewing = await view(RELAY_URL, grant("view"))
        pc = viewing.pc
        failed = asyncio.Event()

        def on_change() -> None:
            if pc.connectionState == "failed":
                failed.set()

        pc.on("connectionstatechange", on_change)
        try:
            on_change()
            # ICE gives up once every check has timed out.
            await asyncio.wait_for(failed.wait(), timeout=200)
            return {"answer": pc.remoteDescription.sdp, "state": pc.connectionState}
        finally:
            await viewing.close()

    try:
        seen = network.run("viewer", at_home)
    finally:
        stop_process(relay)
    assert candidate_addresses(seen["answer"]) == {netns.RELAY_PRIVATE}
    assert seen["state"] == "failed"
