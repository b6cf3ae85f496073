"""Fan-out of one shared, already packetised stream to many viewers.

aiortc's ``RTCRtpSender`` builds, serialises, encrypts and sends every RTP packet
for its own peer through a chain of awaits: about 30 µs of Python a packet, paid
again for every viewer. That, not encoding, is what capped a relay process at a
few dozen viewers. Here:

- the room packetises each encoded frame **once** per rendition (``SharedFrame``)
  and serialises it once per wire profile (payload type, mid, extension ids:
  the same for every browser of a kind);
- each viewer's ``ForwardingSender`` copies those bytes, patches its own
  sequence number, timestamp and SSRC, encrypts (libsrtp) and hands the packet
  to its UDP socket, synchronously: about 5-10 µs a packet.

There is no per-viewer task or queue. The only per-viewer buffer is the socket's
own send queue, checked before each frame: a viewer whose socket backs up loses
frames for itself and restarts at the next keyframe (``Outlet``), and everyone
else is served in the same pass.

``ForwardingSender`` is an ``RTCRtpSender`` that aiortc created for the viewer's
transceiver, re-classed before the answer is made. It keeps aiortc's RTCP (sender
reports, NACK, PLI/FIR handling) and replaces only the RTP loop, the NACK
retransmission and the keyframe hook. It touches a few private attributes of
aiortc and aioice: ``pyproject.toml`` pins aiortc's minor version for that, and
the relay tests exercise every one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from struct import pack_into
from typing import Any, NamedTuple

from aiortc import RTCRtpSender, clock
from aiortc.codecs.base import Encoder
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import (
    RTCP_RTPFB_NACK,
    RTP_HISTORY_SIZE,
    AnyRtcpPacket,
    HeaderExtensionsMap,
    RtcpRtpfbPacket,
    RtpPacket,
    wrap_rtx,
)
from aiortc.utils import random32, uint16_add

# A NACK listing more packets than this is a burst loss (about 5 frames): the
# viewer also gets a keyframe, without waiting for its decoder to ask.
BURST_LOSS_PACKETS = 24
# A viewer whose socket holds more than this unsent is behind: it skips frames
# until its socket drains and restarts at a keyframe. About 1 s at 1.2 Mb/s.
MAX_SOCKET_BACKLOG = 160_000


@dataclass(frozen=True)
class WireProfile:
    """What makes one viewer's RTP bytes differ from another's, apart from
    sequence number, timestamp and SSRC (patched per viewer)."""

    payload_type: int
    mid: str | None
    extension_ids: tuple[Any, ...]


class Endpoint(NamedTuple):
    sendto: Callable[[bytes, Any], None]
    address: Any
    backlog: Callable[[], int]  # bytes the socket still holds


class SharedFrame:
    """One encoded video frame or audio packet, packetised once for every viewer."""

    __slots__ = ("_wire", "keyframe", "ntp_time", "payload_bytes", "payloads", "timestamp")

    def __init__(self, payloads: list[bytes], timestamp: int, keyframe: bool) -> None:
        self.payloads = payloads
        self.timestamp = timestamp  # in the codec's RTP clock, from the room's pts
        self.keyframe = keyframe
        self.payload_bytes = sum(len(p) for p in payloads)
        # One send time for the frame: it leaves for every viewer in the same pass.
        self.ntp_time = clock.current_ntp_time()
        self._wire: dict[WireProfile, list[bytes]] = {}

    @classmethod
    def pack(cls, packer: Encoder, packet: Any) -> SharedFrame:
        """Packetise an ``av.Packet`` with aiortc's codec packetiser (H.264 FU-A/STAP-A,
        VP8 descriptor, Opus as is)."""
        payloads, timestamp = packer.pack(packet)
        return cls(payloads, timestamp, bool(packet.is_keyframe))

    def wire(self, profile: WireProfile, extensions: HeaderExtensionsMap) -> list[bytes]:
        """Serialised RTP packets for this profile, with sequence number, timestamp and
        SSRC left at zero. Made on first use and shared by every viewer with the profile."""
        packets = self._wire.get(profile)
        if packets is None:
            packets = self._serialise(profile, extensions)
            self._wire[profile] = packets
        return packets

    def _serialise(self, profile: WireProfile, extensions: HeaderExtensionsMap) -> list[bytes]:
        abs_send_time = (self.ntp_time >> 14) & 0x00FFFFFF
        last = len(self.payloads) - 1
        packets = []
        for index, payload in enumerate(self.payloads):
            packet = RtpPacket(payload_type=profile.payload_type, marker=int(index == last))
            packet.payload = payload
            packet.extensions.abs_send_time = abs_send_time
            packet.extensions.mid = profile.mid
            packets.append(packet.serialize(extensions))
        return packets


class Outlet:
    """One viewer's video or audio, as the room sees it.

    It exists from the moment the viewer is answered (so it counts as a viewer);
    frames flow once aiortc starts the viewer's sender, after DTLS is up. Video
    starts at a keyframe, and after any frame it had to skip it waits for the
    next keyframe again, because a decoder cannot resume mid-GOP.
    """

    def __init__(
        self,
        kind: str,
        *,
        on_keyframe_needed: Callable[[], None],
        on_stop: Callable[[Outlet], None],
    ) -> None:
        self.kind = kind
        self._on_keyframe_needed = on_keyframe_needed
        self._on_stop = on_stop
        self._sender: ForwardingSender | None = None
        self._awaiting_keyframe = kind == "video"
        self.stopped = False
        self.frames_sent = 0
        self.frames_dropped = 0
        self.keyframes_sent = 0

    @property
    def awaiting_keyframe(self) -> bool:
        return self._awaiting_keyframe

    def attach(self, sender: ForwardingSender) -> None:
        """The viewer's sender has started: frames from now on are sent."""
        self._sender = sender
        if self._awaiting_keyframe:
            self._on_keyframe_needed()

    def send(self, frame: SharedFrame) -> None:
        sender = self._sender
        if sender is None or self.stopped:
            return
        if self._awaiting_keyframe:
            if not frame.keyframe:
                self.frames_dropped += 1
                return
            self._awaiting_keyframe = False
        if sender.send_frame(frame):
            self.frames_sent += 1
            self.keyframes_sent += frame.keyframe
            return
        # The viewer's socket is backed up (or gone): this frame is lost for this
        # viewer only. Video then needs a keyframe to decode again.
        self.frames_dropped += 1
        if self.kind == "video":
            self._awaiting_keyframe = True
            self._on_keyframe_needed()

    def request_keyframe(self) -> None:
        """A PLI/FIR from this viewer; the room rate-limits it."""
        if self.kind == "video":
            self._on_keyframe_needed()

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self._sender = None
            self._on_stop(self)


class ForwardingSender(RTCRtpSender):
    """An ``RTCRtpSender`` that sends frames pushed by the room instead of reading a track."""

    max_backlog: int  # bytes unsent in the viewer's socket before frames are skipped
    retransmitted: int  # packets resent for this viewer's NACKs
    _outlet: Outlet
    _profile: WireProfile
    _extensions: HeaderExtensionsMap
    _history: list[bytes | None]
    _seq: int
    _ts_origin: int
    _rtx_seq: int
    _udp: Endpoint | None
    _RTCRtpSender__ntp_timestamp: int
    _RTCRtpSender__rtp_timestamp: int
    _RTCRtpSender__packet_count: int
    _RTCRtpSender__octet_count: int

    @classmethod
    def adopt(cls, sender: RTCRtpSender, outlet: Outlet) -> ForwardingSender:
        """Turn the sender aiortc made for a viewer's transceiver into a forwarding one.

        Must happen before the answer is set: aiortc starts the sender's RTP loop
        (our ``_run_rtp``) once the connection is up.
        """
        sender.__class__ = cls
        assert isinstance(sender, ForwardingSender)
        sender._outlet = outlet
        sender.max_backlog = MAX_SOCKET_BACKLOG
        sender.retransmitted = 0
        return sender

    @property
    def outlet(self) -> Outlet:
        """This viewer's outlet in the room: its frame counters and keyframe state."""
        return self._outlet

    # aiortc's private state, by its mangled names (see the module docstring).
    def _private(self, name: str) -> Any:
        return getattr(self, f"_RTCRtpSender__{name}")

    async def _run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        """Replaces aiortc's per-packet loop: register with the room, then wait to be stopped."""
        self._private("rtp_started").set()
        self._extensions = self._private("rtp_header_extensions_map")
        ids = self._extensions._HeaderExtensionsMap__ids  # type: ignore[attr-defined]
        self._profile = WireProfile(
            payload_type=codec.payloadType or 0,
            mid=self._private("mid"),
            extension_ids=tuple(vars(ids).values()),
        )
        self._history = [None] * RTP_HISTORY_SIZE
        self._seq = random_sequence_number()
        self._ts_origin = random32()
        self._rtx_seq = random_sequence_number()
        self._udp = None
        self._outlet.attach(self)
        try:
            await asyncio.Future()  # until aiortc cancels us in RTCRtpSender.stop()
        except asyncio.CancelledError:
            pass
        finally:
            self._outlet.stop()
            self._private("rtp_exited").set()

    def _endpoint(self) -> Endpoint | None:
        """The viewer's UDP socket and address, or None if not (or no longer) connected."""
        if self.transport._state is not DtlsState.CONNECTED:
            return None
        if self._udp is None:
            # aioice never changes the nominated pair once connected: look it up once.
            pair = self.transport.transport._connection._nominated.get(1)
            if pair is None:
                return None
            socket = pair.protocol.transport
            backlog = getattr(socket, "get_write_buffer_size", lambda: 0)
            self._udp = Endpoint(socket.sendto, pair.remote_addr, backlog)
        return self._udp

    def send_frame(self, frame: SharedFrame) -> bool:
        """Send one frame now; False if it could not go (socket backed up, not connected)."""
        udp = self._endpoint()
        if udp is None or udp.backlog() > self.max_backlog:
            return False
        sendto, address = udp.sendto, udp.address
        protect = self.transport._tx_srtp.protect
        history = self._history
        timestamp = (self._ts_origin + frame.timestamp) & 0xFFFFFFFF
        seq = self._seq
        ssrc = self._ssrc
        for template in frame.wire(self._profile, self._extensions):
            packet = bytearray(template)
            pack_into("!HII", packet, 2, seq, timestamp, ssrc)
            clear = bytes(packet)
            history[seq % RTP_HISTORY_SIZE] = clear  # for NACK
            sendto(protect(clear), address)
            seq = (seq + 1) & 0xFFFF
        self._seq = seq
        # aiortc's RTCP loop builds the sender report from these (its private
        # fields; a single leading underscore, so written as is).
        self._RTCRtpSender__ntp_timestamp = frame.ntp_time
        self._RTCRtpSender__rtp_timestamp = timestamp
        self._RTCRtpSender__packet_count += len(frame.payloads)
        self._RTCRtpSender__octet_count += frame.payload_bytes
        return True

    async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:
        if (
            isinstance(packet, RtcpRtpfbPacket)
            and packet.fmt == RTCP_RTPFB_NACK
            and len(packet.lost) > BURST_LOSS_PACKETS
        ):
            # The viewer's network dropped out for a while: its decoder has lost
            # references older than what can be resent, so it needs a keyframe. The
            # resends still go: a jitter buffer may wait for them before moving on.
            self._outlet.request_keyframe()
        await super()._handle_rtcp_packet(packet)

    async def _retransmit(self, sequence_number: int) -> None:
        """Answer a NACK from this viewer's history (RTX-wrapped if negotiated)."""
        clear = self._history[sequence_number % RTP_HISTORY_SIZE]
        if clear is None or int.from_bytes(clear[2:4], "big") != sequence_number:
            return  # older than the history: the viewer will ask for a keyframe
        rtx_payload_type = self._private("rtx_payload_type")
        if rtx_payload_type is not None:
            packet = wrap_rtx(
                RtpPacket.parse(clear, self._extensions),
                payload_type=rtx_payload_type,
                sequence_number=self._rtx_seq,
                ssrc=self._rtx_ssrc,
            )
            self._rtx_seq = uint16_add(self._rtx_seq, 1)
            clear = packet.serialize(self._extensions)
        with contextlib.suppress(ConnectionError):
            await self.transport._send_rtp(clear)
            self.retransmitted += 1

    def _send_keyframe(self) -> None:
        # A PLI/FIR from the viewer: the sender has no encoder of its own to flag,
        # so the request goes to the room's shared encoder.
        self._outlet.request_keyframe()
