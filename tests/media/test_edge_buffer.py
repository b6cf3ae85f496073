"""The edge's pure pieces: the jitter buffer that releases a frame at its marker packet,
the viewer-facing RTP clock across subscriptions, the H.264 keyframe test, origin URLs.
(The edge itself, with real relays and peers: test_origin_edge.py.)"""

from __future__ import annotations

import pytest
from aiortc.rtp import RtpPacket

from streaming.edge import (
    Clock,
    EdgeFrame,
    EdgeJitterBuffer,
    check_origin_url,
    h264_payloads,
    is_h264_keyframe,
)
from streaming.relay import RelayError

pytestmark = pytest.mark.media

SPS, PPS, IDR, SLICE = b"\x67\x42\xc0\x1f", b"\x68\xce\x3c\x80", b"\x65\x88\x84", b"\x41\x9a\x02"


def packet(seq: int, timestamp: int, data: bytes, *, marker: bool = False) -> RtpPacket:
    rtp = RtpPacket(payload_type=102, marker=int(marker), sequence_number=seq, timestamp=timestamp)
    rtp._data = data  # type: ignore[attr-defined]  # what aiortc's depayloader leaves
    return rtp


def test_a_frame_is_released_at_its_marker_packet() -> None:
    buffer = EdgeJitterBuffer(capacity=128)
    assert buffer.add(packet(10, 3000, b"a"))[1] is None
    _, frame = buffer.add(packet(11, 3000, b"b", marker=True))
    assert isinstance(frame, EdgeFrame)
    assert (frame.data, frame.timestamp, frame.first_seq, frame.last_seq) == (b"ab", 3000, 10, 11)
    # The next frame needs no third frame to push it out either.
    _, frame = buffer.add(packet(12, 6000, b"c", marker=True))
    assert isinstance(frame, EdgeFrame) and (frame.data, frame.first_seq) == (b"c", 12)


def test_a_frame_with_a_hole_waits_for_the_resend_then_both_go_in_order() -> None:
    buffer = EdgeJitterBuffer(capacity=128)
    assert buffer.add(packet(100, 3000, b"a"))[1] is None
    # 101 is lost; the frame's marker and the whole next frame come.
    assert buffer.add(packet(102, 3000, b"c", marker=True))[1] is None
    assert buffer.add(packet(103, 6000, b"d", marker=True))[1] is None
    # The resend fills the hole: the first frame goes, whole and in order ...
    _, frame = buffer.add(packet(101, 3000, b"b"))
    assert isinstance(frame, EdgeFrame)
    assert (frame.data, frame.first_seq, frame.last_seq) == (b"abc", 100, 102)
    # ... and the next one with the following packet.
    _, frame = buffer.add(packet(104, 9000, b"e", marker=True))
    assert isinstance(frame, EdgeFrame) and (frame.data, frame.first_seq) == (b"d", 103)


def test_sequence_numbers_wrap() -> None:
    buffer = EdgeJitterBuffer(capacity=128)
    buffer.add(packet(65535, 3000, b"a"))
    _, frame = buffer.add(packet(0, 3000, b"b", marker=True))
    assert isinstance(frame, EdgeFrame) and (frame.first_seq, frame.last_seq) == (65535, 0)


def test_the_clock_continues_across_subscriptions() -> None:
    clock = Clock(step=3000)
    assert [clock.map(t) for t in (90_000, 93_000, 96_000)] == [0, 3000, 6000]
    clock.restart()  # a new subscription: the origin's clock starts elsewhere
    assert [clock.map(t) for t in (5, 3005)] == [9000, 12000]
    clock.restart()
    assert clock.map(0xFFFFFFF0) == 15000  # and wraps as RTP timestamps do
    assert clock.map(0x0000_0BB0) == (15000 + 0xBC0) & 0xFFFFFFFF


def annex_b(*nalus: bytes) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + nalu for nalu in nalus)


def test_h264_keyframes_are_told_by_their_idr_slice() -> None:
    assert is_h264_keyframe(annex_b(SPS, PPS, IDR))
    assert not is_h264_keyframe(annex_b(SLICE))
    assert not is_h264_keyframe(b"")
    # Small NAL units travel together (STAP-A), a large one in fragments (FU-A).
    assert len(h264_payloads(annex_b(SPS, PPS, IDR))) == 1
    assert len(h264_payloads(annex_b(SPS, PPS, IDR + b"\x00\x01" * 1200))) > 2


@pytest.mark.parametrize(
    "given",
    [None, "", 42, "relay:8001", "ftp://relay", "http://", "http://relay?x=1", "http://r#f"],
)
def test_an_origin_must_be_an_http_url(given: object) -> None:
    with pytest.raises(RelayError) as refused:
        check_origin_url(given)
    assert refused.value.status == 400


def test_an_origin_url_is_kept_without_its_trailing_slash() -> None:
    assert check_origin_url("https://relay-1.internal:8001/") == "https://relay-1.internal:8001"
    assert check_origin_url("http://10.0.0.5:8001/media") == "http://10.0.0.5:8001/media"
