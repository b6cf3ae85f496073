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
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import SessionDescription

from sessions.grants import (
    COHOST_SLOT,
    HOST_SLOT,
    PUBLISHER_SLOTS,
    Grant,
    GrantError,
    Role,
    verify_grant,
)
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
    slot: int = HOST_SLOT


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


def viewer_slots(directions: list[tuple[str, str]]) -> list[dict[str, int]]:
    """Which m-lines of a view offer receive which publisher: the first video and the
    first audio m-line are the host's, the second of each the co-host's (index per kind).

    A viewer that offers one of each sees the host only, as before co-hosts existed."""
    counts = {kind: sum(k == kind for k, _ in directions) for kind in ("audio", "video")}
    slots = max(counts.values())
    if slots > PUBLISHER_SLOTS:
        raise RelayError(
            400, "too_many_tracks", f"a show carries at most {PUBLISHER_SLOTS} publishers"
        )
    return [
        {kind: index for kind in ("video", "audio") if index < counts[kind]}
        for index in range(slots)
    ]


def check_role(role: Role, directions: list[tuple[str, str]]) -> None:
    """A publish offer must send media and a view offer must receive it."""
    sends = any(d in ("sendonly", "sendrecv") for _, d in directions)
    receives = any(d in ("recvonly", "sendrecv") for _, d in directions)
    if role == "publish" and not sends:
        raise RelayError(403, "role_not_allowed", "a publish grant must send media")
    if role == "view" and not receives:
        raise RelayError(403, "role_not_allowed", "a view grant cannot send media")


def share_bundle_candidates(sdp: str) -> str:
    """Give every m-section of a BUNDLE offer the candidates of the first that has some.

    Browsers list candidates once for a bundle; aiortc (1.16) adds the candidates of the
    *last* m-section sharing a transport, so a viewer offering two videos would leave it
    with none (aiortc issue #1437). Pure text: sections that carry candidates are kept.
    """
    if "a=group:BUNDLE" not in sdp:
        return sdp
    head, *sections = re.split(r"(?m)^(?=m=)", sdp)
    candidates = next(
        (
            [line for line in section.splitlines() if line.startswith("a=candidate:")]
            for section in sections
            if "a=candidate:" in section
        ),
        [],
    )
    if not candidates:
        return sdp
    shared = "".join(f"{line}\r\n" for line in candidates)
    fixed = [
        section if "a=candidate:" in section else section.rstrip("\r\n") + "\r\n" + shared
        for section in sections
    ]
    return head + "".join(fixed)


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
        # The co-host stage of a room (its second publisher), made on first use.
        self.cohosts: dict[str, Room] = {}
        self.peers: dict[str, Peer] = {}
        self._nonces = make_ledger(config.redis_url)
        # Room -> public, as the publisher's grant said (or the room's marker file).
        self._public: dict[str, bool] = {}

    def _rtc_configuration(self, identity: str, *, max_bundle: bool = False) -> RTCConfiguration:
        """The configured ICE servers, and TURN credentials minted for this peer.

        ``max_bundle`` for a viewer of several publishers: every m-line on one transport
        from the start. Under aiortc's default (balanced) a second audio m-line keeps a
        transport that the offer's BUNDLE then closes (aiortc issue #1414)."""
        config = self.config
        servers = ice_servers(
            config.ice_servers,
            turn_urls=config.turn_urls,
            turn_secret=config.turn_secret,
            ttl_seconds=config.turn_ttl_seconds,
            identity=f"relay-{identity}",
        )
        return RTCConfiguration(
            iceServers=[RTCIceServer(**server) for server in servers],
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE if max_bundle else RTCBundlePolicy.BALANCED,
        )

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

    def stage(self, name: str, slot: int) -> Room:
        """The room's stage for one publisher slot: the host's is the room itself."""
        if slot == HOST_SLOT:
            return self.room(name)
        if not is_room_name(name):
            raise RelayError(400, "bad_room", "not a room name")
        if name not in self.cohosts:
            self.cohosts[name] = Room(name, self.config.media_dir, main=False)
        return self.cohosts[name]

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
        several = grant.role == "view" and len(viewer_slots(directions)) > 1
        if several:
            sdp = share_bundle_candidates(sdp)
        peer = Peer(
            secrets.token_urlsafe(12),
            grant.room,
            grant.role,
            grant.identity,
            RTCPeerConnection(self._rtc_configuration(grant.identity, max_bundle=several)),
            secrets.token_urlsafe(24),
            grant.slot if grant.role == "publish" else HOST_SLOT,
        )
        self.peers[peer.peer_id] = peer
        self._watch(peer)
        try:
            if grant.role == "publish":
                if peer.slot == HOST_SLOT:
                    # The host's grant says what the room is; a co-host's says nothing.
                    self._adopt_claims(self.room(peer.room), grant)
                description = await self._answer_publisher(peer, sdp)
            else:
                description = await self._answer_viewer(peer, sdp, directions)
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
        room = self.stage(peer.room, peer.slot)
        previous = room.publisher_id
        room.attach_publisher(peer.peer_id, tracks.get("video"), tracks.get("audio"))
        if previous is not None and previous in self.peers:
            # Replaced, not ended: the room is already the new peer's, so closing
            # the old one neither ends the show nor marks it reconnecting.
            await self.close_peer(previous, dropped=True)
        logger.info(
            "room %s: publisher %s (%s), slot %d", peer.room, peer.peer_id, peer.identity, peer.slot
        )
        return pc.localDescription

    async def _answer_viewer(
        self, peer: Peer, sdp: str, directions: list[tuple[str, str]]
    ) -> RTCSessionDescription:
        pc = peer.pc
        slots = viewer_slots(directions)
        # Transceivers made before the offer is applied are matched to its m-lines in
        # order, kind by kind (aiortc takes the first unassigned one of the kind), so
        # the answer is sendonly whatever the viewer offered: a viewer that offers
        # sendrecv still cannot put media into the room.
        made: dict[str, list[RTCRtpTransceiver]] = {"audio": [], "video": []}
        for kind, _ in directions:
            transceiver = pc.addTransceiver(kind, direction="sendonly")
            if kind == "video":
                transceiver.setCodecPreferences(_viewer_codec_capabilities())
            made[kind].append(transceiver)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        for slot, indexes in enumerate(slots):
            video = made["video"][indexes["video"]] if "video" in indexes else None
            codec = _negotiated_codec(video) if video is not None else "h264"
            outlets = self.stage(peer.room, slot).add_viewer(codec)
            senders = (video, made["audio"][indexes["audio"]] if "audio" in indexes else None)
            for sending, outlet in zip(senders, outlets, strict=True):
                if sending is not None:
                    # The stage pushes shared packets into this sender (fanout.py);
                    # aiortc starts it once the viewer's connection is up.
                    ForwardingSender.adopt(sending.sender, outlet)
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
        stages = self.cohosts if peer.slot == COHOST_SLOT else self.rooms
        room = stages.get(peer.room)
        if room is not None and peer.role == "publish":
            if dropped and peer.slot == HOST_SLOT:
                room.publisher_dropped(peer_id)
            else:
                # A co-host that drops is off the air (their tile goes); they rejoin.
                room.end_publisher(peer_id)
        await peer.pc.close()
        for kept in (self.rooms, self.cohosts):
            # Nobody publishes on it or watches it, and no show is paused: free it.
            idle = kept.get(peer.room)
            if idle is not None and idle.is_idle:
                del kept[peer.room]
                await idle.close()
        return True

    async def mute_cohost(self, name: str, muted: bool) -> bool:
        """Silence the co-host for every viewer (or let them be heard again). Returns
        whether a co-host stage exists; the flag holds for whoever publishes on it next."""
        stage = self.stage(name, COHOST_SLOT)
        stage.muted = muted
        return stage.publisher_id is not None

    async def remove_cohost(self, name: str) -> bool:
        """Close the co-host's publisher: viewers stop getting their picture and sound."""
        stage = self.cohosts.get(name)
        if stage is None or stage.publisher_id is None:
            return False
        await self.close_peer(stage.publisher_id)
        return True

    async def end_room(self, name: str) -> str | None:
        """The show is over (the web app says so): hang up the host and close the files.

        Returns the recording's path under /recordings, now complete, for the replay.
        """
        await self.remove_cohost(name)
        cohost = self.cohosts.get(name)
        if cohost is not None and cohost.is_idle:
            del self.cohosts[name]
            await cohost.close()
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
        for room in [*self.rooms.values(), *self.cohosts.values()]:
            await room.close()
        self.rooms.clear()
        self.cohosts.clear()
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
        cohost = self.cohosts.get(name)
        status["cohost"] = cohost.state if cohost is not None else "none"
        status["cohost_muted"] = cohost.muted if cohost is not None else False
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
