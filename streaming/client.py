"""Client side of the relay's signalling, for tests, the benchmark and the demo."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
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


async def signal(relay_url: str, pc: RTCPeerConnection, grant: str) -> str:
    """Non-trickle offer/answer (aiortc gathers before it returns the offer)."""
    await pc.setLocalDescription(await pc.createOffer())
    answer = await post_offer(relay_url, grant, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
    return answer["peer_id"]


@dataclass
class Viewing:
    pc: RTCPeerConnection
    peer_id: str
    video: MediaStreamTrack
    audio: MediaStreamTrack

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
        peer_id = await signal(relay_url, pc, grant)
    except BaseException:
        await pc.close()
        raise
    return Viewing(pc=pc, peer_id=peer_id, video=tracks["video"], audio=tracks["audio"])
