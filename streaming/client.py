"""Client side of the relay (signalling, socket taps), for tests, the benchmark and the demo."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    sdp,
)
from aiortc.mediastreams import MediaStreamTrack


class SignalError(RuntimeError):
    def __init__(self, status: int, body: dict[str, object]) -> None:
        super().__init__(f"relay refused ({status}): {body}")
        self.status = status
        self.body = body


async def post_offer(relay_url: str, grant: str, sdp: str, **extra: str) -> dict[str, str]:
    """``POST /signal``; returns the answer or raises ``SignalError`` with the status."""
    body = {"grant": grant, "sdp": sdp, "type": "offer", **extra}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{relay_url}/signal", json=body) as response,
    ):
        payload = await response.json()
        if response.status != 200:
            raise SignalError(response.status, payload)
    return dict(payload)


async def negotiate(relay_url: str, pc: RTCPeerConnection, grant: str) -> dict[str, str]:
    """Non-trickle offer/answer (aiortc gathers before it returns the offer); the answer
    carries ``peer_id`` and ``peer_token`` (the proof needed to hang up)."""
    await pc.setLocalDescription(await pc.createOffer())
    answer = await post_offer(relay_url, grant, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
    return answer


async def signal(relay_url: str, pc: RTCPeerConnection, grant: str) -> str:
    return (await negotiate(relay_url, pc, grant))["peer_id"]


async def hang_up(relay_url: str, peer_id: str, peer_token: str) -> int:
    """``DELETE /signal/<peer>`` with the peer's token: ends it on purpose; returns the status."""
    headers = {"Authorization": f"Bearer {peer_token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.delete(f"{relay_url}/signal/{peer_id}", headers=headers) as response,
    ):
        return response.status


@dataclass
class Viewing:
    pc: RTCPeerConnection
    peer_id: str
    video: MediaStreamTrack
    audio: MediaStreamTrack
    peer_token: str = ""

    async def close(self) -> None:
        await self.pc.close()


async def view(relay_url: str, grant: str) -> Viewing:
    """Open a receive-only peer on a room and return its incoming tracks."""
    pc = RTCPeerConnection()
    tracks: dict[str, MediaStreamTrack] = {}
    pc.on("track", lambda track: tracks.setdefault(track.kind, track))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    try:
        answer = await negotiate(relay_url, pc, grant)
    except BaseException:
        await pc.close()
        raise
    return Viewing(
        pc=pc,
        peer_id=answer["peer_id"],
        video=tracks["video"],
        audio=tracks["audio"],
        peer_token=answer["peer_token"],
    )


@dataclass
class ShowViewing:
    """A viewer of every publisher of a show: ``videos[0]``/``audios[0]`` the host's,
    ``videos[1]``/``audios[1]`` the co-host's (silent while nobody co-hosts)."""

    pc: RTCPeerConnection
    peer_id: str
    videos: list[MediaStreamTrack]
    audios: list[MediaStreamTrack]
    peer_token: str = ""

    def ssrcs(self, kind: str) -> list[int]:
        """The relay's SSRC for each slot's ``kind`` track, from its answer (m-line order)."""
        description = sdp.SessionDescription.parse(self.pc.remoteDescription.sdp)
        return [media.ssrc[0].ssrc for media in description.media if media.kind == kind]

    async def close(self) -> None:
        await self.pc.close()


async def view_show(relay_url: str, grant: str, *, slots: int = 2) -> ShowViewing:
    """One receive-only peer with a video and an audio m-line per publisher slot (all on
    one transport: see ``Relay._rtc_configuration``)."""
    pc = RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    for _ in range(slots):
        pc.addTransceiver("video", direction="recvonly")
        pc.addTransceiver("audio", direction="recvonly")
    try:
        answer = await negotiate(relay_url, pc, grant)
    except BaseException:
        await pc.close()
        raise
    transceivers = pc.getTransceivers()
    return ShowViewing(
        pc=pc,
        peer_id=answer["peer_id"],
        videos=[t.receiver.track for t in transceivers if t.kind == "video"],
        audios=[t.receiver.track for t in transceivers if t.kind == "audio"],
        peer_token=answer["peer_token"],
    )


def video_payload_types(pc: RTCPeerConnection) -> set[int]:
    """The video payload types (RTX excluded) agreed in a peer's remote description."""
    description = sdp.SessionDescription.parse(pc.remoteDescription.sdp)
    return {
        codec.payloadType
        for media in description.media
        if media.kind == "video"
        for codec in media.rtp.codecs
        if codec.name.lower() != "rtx" and codec.payloadType is not None
    }


def is_rtp(data: bytes) -> bool:
    """RTP, not RTCP, STUN or DTLS: version 2 and a payload type outside RTCP's 192-223."""
    return len(data) >= 12 and 128 <= data[0] < 192 and not 192 <= data[1] <= 223


class SocketTap(asyncio.DatagramProtocol):
    """Sits in front of aioice's protocol on one of a peer's UDP sockets and sees
    every incoming RTP packet first (headers are in the clear under SRTP).

    ``on_rtp`` returns True to swallow the packet; everything else (STUN for ICE
    consent, DTLS, RTCP) always reaches aiortc. For the benchmark's counting
    viewers and the tests' bad networks; a viewer of the real product never uses it.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def on_rtp(self, data: bytes) -> bool:
        return False

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if is_rtp(data) and self.on_rtp(data):
            return
        self._inner.datagram_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        self._inner.error_received(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)


Tap = TypeVar("Tap", bound=SocketTap)


def tap_sockets(pc: RTCPeerConnection, make: Callable[[Any], Tap]) -> list[Tap]:
    """Put a tap made by ``make(inner_protocol)`` in front of every socket of ``pc``.

    Works before or after the connection is up. A wrapping protocol, not a patched
    method: uvloop caches a protocol's bound methods, ``set_protocol`` refreshes them.
    """
    taps = []
    for protocol in _ice_protocols(pc):
        tap = make(protocol)
        protocol.transport.set_protocol(tap)
        taps.append(tap)
    return taps


def udp_transports(pc: RTCPeerConnection) -> list[asyncio.DatagramTransport]:
    """The asyncio transports of every UDP socket of ``pc`` (one per local candidate),
    for tests that act on the sockets themselves: stop reading one, shrink its buffer."""
    return [protocol.transport for protocol in _ice_protocols(pc)]


def _ice_protocols(pc: RTCPeerConnection) -> list[Any]:
    # aioice keeps one protocol per local candidate socket; it has no public accessor.
    return [
        protocol
        for transport in {receiver.transport for receiver in pc.getReceivers()}
        for protocol in transport.transport._connection._protocols
    ]
