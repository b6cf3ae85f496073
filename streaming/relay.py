"""The relay: checks grants, answers offers, owns every peer connection and room."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import SessionDescription

from sessions.grants import Grant, GrantError, Role, verify_grant
from sessions.turn import ice_servers

from .config import RelayConfig
from .encoder import VideoCodec
from .fanout import ForwardingSender
from .media_files import is_room_name, read_public, write_marker
from .nonces import GrantReplayed, NonceStoreDown, make_ledger
from .room import Room

logger = logging.getLogger(__name__)

# Which codecs a viewer may get, best first. H.264 is the room's main rendition
# (recording and HLS remux it); VP8 is encoded only while a viewer needs it.
VIEWER_CODECS: tuple[tuple[str, VideoCodec], ...] = (("video/H264", "h264"), ("video/VP8", "vp8"))


class RelayError(Exception):
    """A refusal the caller caused: becomes ``{"error", "message"}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Peer:
    peer_id: str
    room: str
    role: Role
    identity: str
    pc: RTCPeerConnection
    # Handed back in the answer, and only there: proof that a later request (hang
    # up, poll the room's status) comes from whoever opened this peer. A grant
    # cannot serve, it is spent and short-lived; a host may hang up after hours.
    token: str = ""


def offer_directions(sdp: str) -> list[tuple[str, str]]:
    """(kind, direction) of each audio/video m-line; raises RelayError on a bad SDP."""
    try:
        description = SessionDescription.parse(sdp)
    except (ValueError, IndexError, KeyError) as exc:
        raise RelayError(400, "bad_sdp", f"the offer could not be parsed: {exc}") from None
    lines = [
        (m.kind, m.direction or "sendrecv")
        for m in description.media
        if m.kind in ("audio", "video")
    ]
    if not lines:
        raise RelayError(400, "bad_sdp", "the offer has no audio or video")
    return lines


def check_role(role: Role, directions: list[tuple[str, str]]) -> None:
    """A publish offer must send media and a view offer must receive it."""
    sends = any(d in ("sendonly", "sendrecv") for _, d in directions)
    receives = any(d in ("recvonly", "sendrecv") for _, d in directions)
    if role == "publish" and not sends:
        raise RelayError(403, "role_not_allowed", "a publish grant must send media")
    if role == "view" and not receives:
        raise RelayError(403, "role_not_allowed", "a view grant cannot send media")


_HOST_CANDIDATE = re.compile(
    r"^a=candidate:(\S+) (\d+) (udp|tcp) (\d+) (\d+\.\d+\.\d+\.\d+) (\d+) typ host(.*)$",
    re.IGNORECASE,
)


def announce_public_ip(sdp: str, public_ip: str) -> str:
    """Behind 1:1 NAT (a cloud VM): next to each IPv4 host candidate, the same port at the
    public address, as a server-reflexive candidate (what STUN would have found). Browsers
    outside reach the relay there; the NAT maps it back to the host candidate's socket."""
    lines: list[str] = []
    for line in sdp.splitlines():
        lines.append(line)
        match = _HOST_CANDIDATE.match(line)
        if match is None or match.group(5) == public_ip:
            continue
        foundation, component, transport, priority, address, port, _ = match.groups()
        # Type preference 100 (server reflexive) in place of host's 126 (RFC 8445 5.1.2.1).
        reflexive = int(priority) - (126 << 24) + (100 << 24)
        lines.append(
            f"a=candidate:{foundation}n {component} {transport} {reflexive} {public_ip} {port}"
            f" typ srflx raddr {address} rport {port}"
        )
    return "\r\n".join(lines) + "\r\n"


class Relay:
    def __init__(self, config: RelayConfig) -> None:
        self.config = config
        self.rooms: dict[str, Room] = {}
        self.peers: dict[str, Peer] = {}
        self._nonces = make_ledger(config.redis_url)
        # Room -> public, as the publisher's grant said (or the room's marker file).
        self._public: dict[str, bool] = {}

    def _rtc_configuration(self, identity: str) -> RTCConfiguration:
        """The configured ICE servers, and TURN credentials minted for this peer."""
        config = self.config
        servers = ice_servers(
            config.ice_servers,
            turn_urls=config.turn_urls,
            turn_secret=config.turn_secret,
            ttl_seconds=config.turn_ttl_seconds,
            identity=f"relay-{identity}",
        )
        return RTCConfiguration(iceServers=[RTCIceServer(**server) for server in servers])

    # -- grants ----------------------------------------------------------------

    def verify(self, token: str) -> Grant:
        """Signature and expiry; the nonce is not spent (file reads, snapshots)."""
        try:
            grant = verify_grant(self.config.grant_secret, token)
        except GrantError as exc:
            raise RelayError(exc.status, "grant_refused", exc.reason) from None
        if not is_room_name(grant.room):
            raise RelayError(400, "bad_room", "the grant names no valid room")
        return grant

    async def spend(self, grant: Grant) -> None:
        try:
            await self._nonces.spend(grant, time.time())
        except GrantReplayed:
            raise RelayError(409, "grant_replayed", "this grant has already been used") from None
        except NonceStoreDown:
            raise RelayError(
                503, "nonce_store_down", "grants cannot be checked right now; try again"
            ) from None

    async def check_grant(self, token: str, *, spend: bool) -> Grant:
        grant = self.verify(token)
        if spend:
            await self.spend(grant)
        return grant

    def peer_with_token(self, token: str) -> Peer | None:
        given = token.encode()  # bytes: compare_digest refuses non-ASCII str
        for peer in self.peers.values():
            if peer.token and hmac.compare_digest(peer.token.encode(), given):
                return peer
        return None

    def room(self, name: str) -> Room:
        if not is_room_name(name):
            raise RelayError(400, "bad_room", "not a room name")
        if name not in self.rooms:
            self.rooms[name] = Room(name, self.config.media_dir)
        return self.rooms[name]

    def is_public(self, name: str) -> bool:
        """Whether anyone may read the room's files (a public show); private by default."""
        if name not in self._public:
            public = read_public(self.config.media_dir, name)
            if public is None:
                return False  # not cached: a publisher may still come and say
            self._public[name] = public
        return self._public[name]

    def _adopt_claims(self, room: Room, grant: Grant) -> None:
        """The publisher's grant says what the room is; kept on disk for after a restart."""
        room.public, room.record = grant.public, grant.record
        self._public[room.name] = grant.public
        write_marker(self.config.media_dir, room.name, public=grant.public, record=grant.record)

    # -- signalling ------------------------------------------------------------

    async def answer(self, token: str, sdp: str, *, room: str | None = None) -> dict[str, str]:
        """Check the grant, then answer the offer as an ingest or a viewer peer."""
        grant = self.verify(token)
        if room is not None and room != grant.room:
            raise RelayError(403, "wrong_room", "this grant is for another room")
        directions = offer_directions(sdp)
        check_role(grant.role, directions)
        # Spent only once the offer is usable: a malformed request costs no grant.
        await self.spend(grant)
        if grant.role == "view" and self.room(grant.room).viewer_count >= self.config.max_viewers:
            raise RelayError(503, "room_full", "the room is full; watch the HLS stream")
        peer = Peer(
            secrets.token_urlsafe(12),
            grant.room,
            grant.role,
            grant.identity,
            RTCPeerConnection(self._rtc_configuration(grant.identity)),
            secrets.token_urlsafe(24),
        )
        self.peers[peer.peer_id] = peer
        self._watch(peer)
        try:
            if grant.role == "publish":
                self._adopt_claims(self.room(peer.room), grant)
                description = await self._answer_publisher(peer, sdp)
            else:
                kinds = {kind for kind, _ in directions}
                description = await self._answer_viewer(peer, sdp, kinds)
        except RelayError:
            await self.close_peer(peer.peer_id)
            raise
        except Exception as exc:  # aiortc raises plain exceptions for unusable offers
            await self.close_peer(peer.peer_id)
            raise RelayError(400, "bad_offer", f"the offer could not be answered: {exc}") from None
        answer_sdp = description.sdp
        if self.config.public_ip:
            answer_sdp = announce_public_ip(answer_sdp, self.config.public_ip)
        return {
            "sdp": answer_sdp,
            "type": description.type,
            "peer_id": peer.peer_id,
            "peer_token": peer.token,
        }

    async def _answer_publisher(self, peer: Peer, sdp: str) -> RTCSessionDescription:
        pc = peer.pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        tracks: dict[str, MediaStreamTrack] = {}
        for transceiver in pc.getTransceivers():
            # The relay only ever receives from a publisher.
            transceiver.direction = "recvonly"
            tracks.setdefault(transceiver.kind, transceiver.receiver.track)
        await pc.setLocalDescription(await pc.createAnswer())
        room = self.room(peer.room)
        previous = room.publisher_id
        room.attach_publisher(peer.peer_id, tracks.get("video"), tracks.get("audio"))
        if previous is not None and previous in self.peers:
            # Replaced, not ended: the room is already the new peer's, so closing
            # the old one neither ends the show nor marks it reconnecting.
            await self.close_peer(previous, dropped=True)
        logger.info("room %s: publisher %s (%s)", peer.room, peer.peer_id, peer.identity)
        return pc.localDescription

    async def _answer_viewer(self, peer: Peer, sdp: str, kinds: set[str]) -> RTCSessionDescription:
        pc = peer.pc
        # Transceivers made before the offer is applied are matched to its m-lines,
        # so the answer is sendonly whatever the viewer offered: a viewer that
        # offers sendrecv still cannot put media into the room.
        transceivers = {kind: pc.addTransceiver(kind, direction="sendonly") for kind in kinds}
        if "video" in transceivers:
            transceivers["video"].setCodecPreferences(_viewer_codec_capabilities())
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        codec = _negotiated_codec(transceivers["video"]) if "video" in transceivers else "h264"
        outlets = dict(zip(("video", "audio"), self.room(peer.room).add_viewer(codec), strict=True))
        for kind, outlet in outlets.items():
            if kind in transceivers:
                # The room pushes shared packets into this sender (fanout.py);
                # aiortc starts it once the viewer's connection is up.
                ForwardingSender.adopt(transceivers[kind].sender, outlet)
            else:
                outlet.stop()
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription

    def _watch(self, peer: Peer) -> None:
        @peer.pc.on("connectionstatechange")
        async def on_state() -> None:
            if peer.pc.connectionState in ("failed", "closed") and peer.peer_id in self.peers:
                await self.close_peer(peer.peer_id, dropped=True)

    # -- teardown --------------------------------------------------------------

    async def close_peer(self, peer_id: str, *, dropped: bool = False) -> bool:
        """Close one peer. A publisher that dropped leaves its room "reconnecting";
        one closed on purpose (DELETE) ends the show."""
        peer = self.peers.pop(peer_id, None)
        if peer is None:
            return False
        room = self.rooms.get(peer.room)
        if room is not None and peer.role == "publish":
            if dropped:
                room.publisher_dropped(peer_id)
            else:
                room.end_publisher(peer_id)
        await peer.pc.close()
        if room is not None and room.is_idle and self.rooms.get(peer.room) is room:
            # Nobody publishes or watches and no show is paused: free the room.
            del self.rooms[peer.room]
            await room.close()
        return True

    async def end_room(self, name: str) -> str | None:
        """The show is over (the web app says so): hang up the host and close the files.

        Returns the recording's path under /recordings, now complete, for the replay.
        """
        room = self.rooms.get(name)
        if room is None:
            return None
        recording = f"/recordings/{room.recording.path.name}" if room.recording else None
        if room.publisher_id is not None:
            await self.close_peer(room.publisher_id)  # on purpose: not a drop
        return recording

    async def close_all(self) -> None:
        for peer_id in list(self.peers):
            await self.close_peer(peer_id, dropped=True)
        for room in list(self.rooms.values()):
            await room.close()
        self.rooms.clear()
        await self._nonces.close()

    # -- status ----------------------------------------------------------------

    def status(self, name: str, *, internal: bool = True) -> dict[str, Any]:
        """The room's state; the recording's file name only for the web app (internal)."""
        room = self.rooms.get(name)
        if room is None:
            status: dict[str, Any] = {
                "room": name,
                "publisher": "none",
                "viewers": 0,
                "full": False,
                "hls": None,
                "recording": None,
            }
        else:
            status = {
                "room": name,
                "publisher": room.state,
                "viewers": room.viewer_count,
                "full": room.viewer_count >= self.config.max_viewers,
                "hls": f"/hls/{name}/index.m3u8" if room.hls is not None else None,
                "recording": f"/recordings/{room.recording.path.name}" if room.recording else None,
            }
        if not internal:
            del status["recording"]
        return status


def _viewer_codec_capabilities() -> list[Any]:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    ordered = [c for mime, _ in VIEWER_CODECS for c in codecs if c.mimeType == mime]
    return ordered + [c for c in codecs if c.mimeType == "video/rtx"]


def _negotiated_codec(transceiver: RTCRtpTransceiver) -> VideoCodec:
    # aiortc keeps the negotiated list on the transceiver; the sender uses the first.
    negotiated = getattr(transceiver, "_codecs", [])
    if not negotiated:
        raise RelayError(400, "no_common_codec", "the viewer offers neither H.264 nor VP8 video")
    mime = negotiated[0].mimeType
    for known, codec in VIEWER_CODECS:
        if known.lower() == mime.lower():
            return codec
    raise RelayError(400, "no_common_codec", f"unsupported video codec {mime}")
