"""CMAF (fragmented MP4) boxes for LL-HLS: an init segment and one ``moof``+``mdat`` per part.

Written by hand rather than through libavformat's mp4 muxer because a part must leave
the moment its last frame is in: the muxer's interleaving queue holds video back until
audio of the same time has arrived (up to ``max_interleave_delta``) and it decides on
its own where fragments end. Here the caller decides, and each track carries its own
decode time (``tfdt``), so audio and video need not line up at part boundaries.

Only what ISO/IEC 14496-12/-14/-15 require for one H.264 and one AAC-LC track; the
packets are the room's own (no re-encode): H.264 in Annex B is only re-framed to the
4-byte length prefixes MP4 wants, with SPS/PPS moved into the ``avcC`` record.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

VIDEO_TRACK = 1
AUDIO_TRACK = 2
VIDEO_TIMESCALE = 90000
AUDIO_TIMESCALE = 48000
AAC_FRAME_SAMPLES = 1024
# AudioSpecificConfig of the room's AAC encoder (encoder.SharedAacEncoder): AAC-LC
# (object type 2), 48 kHz (index 3), stereo (configuration 2).
AAC_LC_48K_STEREO = bytes([0x11, 0x90])

NAL_SPS, NAL_PPS, NAL_AUD = 7, 8, 9
# trun sample flags (ISO/IEC 14496-12 8.8.3.1): a keyframe depends on nothing; any
# other frame depends on others and is not a sync sample.
SYNC_SAMPLE = 0x02000000
NON_SYNC_SAMPLE = 0x01010000
UNITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def nal_units(annexb: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit (start codes of 3 or 4 bytes)."""
    units: list[bytes] = []
    start = -1
    i = 0
    n = len(annexb)
    while i + 2 < n:
        if annexb[i] == 0 and annexb[i + 1] == 0 and annexb[i + 2] == 1:
            if start >= 0:
                units.append(annexb[start:i].rstrip(b"\x00"))
            i += 3
            start = i
            continue
        i += 1
    if start >= 0:
        units.append(annexb[start:])
    return [u for u in units if u]


@dataclass(frozen=True)
class VideoSample:
    data: bytes  # length-prefixed NAL units
    duration: int  # 90 kHz
    keyframe: bool


@dataclass(frozen=True)
class AudioSample:
    data: bytes  # one raw AAC access unit


def avcc_sample(annexb: bytes) -> tuple[bytes, bytes | None, bytes | None]:
    """An access unit as MP4 wants it, and the SPS and PPS it carried (if any)."""
    sps = pps = None
    out: list[bytes] = []
    for unit in nal_units(annexb):
        kind = unit[0] & 0x1F
        if kind == NAL_SPS:
            sps = unit
        elif kind == NAL_PPS:
            pps = unit
        elif kind != NAL_AUD:
            out.append(struct.pack(">I", len(unit)) + unit)
    return b"".join(out), sps, pps


def _avcc(sps: bytes, pps: bytes) -> bytes:
    return box(
        b"avcC",
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),
        struct.pack(">H", len(sps)),
        sps,
        bytes([1]),
        struct.pack(">H", len(pps)),
        pps,
    )


def _descriptor(tag: int, body: bytes) -> bytes:
    # The 4-byte length form every MP4 writer uses; fine for any body under 2**28.
    size = len(body)
    length = bytes(
        [0x80 | (size >> 21) & 0x7F, 0x80 | (size >> 14) & 0x7F, 0x80 | (size >> 7) & 0x7F]
    ) + bytes([size & 0x7F])
    return bytes([tag]) + length + body


def _esds(config: bytes) -> bytes:
    decoder_config = _descriptor(
        0x04,
        bytes([0x40, 0x15])  # MPEG-4 audio; audio stream, upstream 0, reserved 1
        + b"\x00\x00\x00"  # bufferSizeDB
        + struct.pack(">II", 128000, 128000)
        + _descriptor(0x05, config),
    )
    es = _descriptor(0x03, struct.pack(">HB", AUDIO_TRACK, 0) + decoder_config)
    return full_box(b"esds", 0, 0, es + _descriptor(0x06, b"\x02"))


def _track(
    track_id: int, timescale: int, handler: bytes, name: bytes, header: bytes, entry: bytes
) -> bytes:
    is_video = handler == b"vide"
    width, height = struct.unpack(">HH", entry[32:36]) if is_video else (0, 0)
    tkhd = full_box(
        b"tkhd",
        0,
        0x3,  # enabled, in the movie
        struct.pack(">IIIII", 0, 0, track_id, 0, 0),
        b"\x00" * 8,
        struct.pack(">hhhH", 0, 0, 0 if is_video else 0x0100, 0),
        UNITY_MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s12x", 0, handler), name + b"\x00")
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), entry),
        full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", header, dinf, stbl)))


def init_segment(width: int, height: int, sps: bytes, pps: bytes, *, audio: bool) -> bytes:
    """``ftyp`` + ``moov`` for an H.264 track (and an AAC-LC track when ``audio``)."""
    ftyp = box(b"ftyp", b"iso6", struct.pack(">I", 0), b"iso6cmfcisommp41")
    mvhd = full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIIIIH", 0, 0, 1000, 0, 0x10000, 0x0100),
        b"\x00" * 10,
        UNITY_MATRIX,
        b"\x00" * 24,
        struct.pack(">I", AUDIO_TRACK + 1),
    )
    avc1 = box(
        b"avc1",
        b"\x00" * 6,
        struct.pack(">H", 1),
        b"\x00" * 16,
        struct.pack(">HHIIIH", width, height, 0x480000, 0x480000, 0, 1),
        b"\x00" * 32,  # compressor name
        struct.pack(">Hh", 0x18, -1),
        _avcc(sps, pps),
    )
    tracks = [
        _track(
            VIDEO_TRACK,
            VIDEO_TIMESCALE,
            b"vide",
            b"Vitrine video",
            full_box(b"vmhd", 0, 1, b"\x00" * 8),
            avc1,
        )
    ]
    trex = [full_box(b"trex", 0, 0, struct.pack(">IIIII", VIDEO_TRACK, 1, 0, 0, 0))]
    if audio:
        mp4a = box(
            b"mp4a",
            b"\x00" * 6,
            struct.pack(">H", 1),
            b"\x00" * 8,
            struct.pack(">HHHHI", 2, 16, 0, 0, AUDIO_TIMESCALE << 16),
            _esds(AAC_LC_48K_STEREO),
        )
        tracks.append(
            _track(
                AUDIO_TRACK,
                AUDIO_TIMESCALE,
                b"soun",
                b"Vitrine audio",
                full_box(b"smhd", 0, 0, b"\x00" * 4),
                mp4a,
            )
        )
        trex.append(full_box(b"trex", 0, 0, struct.pack(">IIIII", AUDIO_TRACK, 1, 0, 0, 0)))
    return ftyp + box(b"moov", mvhd, *tracks, box(b"mvex", *trex))


def fragment(
    sequence: int,
    video: Iterable[VideoSample],
    video_time: int,
    audio: Iterable[AudioSample] = (),
    audio_time: int = 0,
) -> bytes:
    """One ``moof`` + ``mdat``: the video samples from ``video_time`` (90 kHz) and the
    audio samples from ``audio_time`` (48 kHz), each track with its own decode time."""
    video, audio = list(video), list(audio)
    # trun flags: data offset, then per sample duration, size (and flags for video).
    trafs: list[tuple[int, int, bytes, list[bytes]]] = []
    if video:
        entries = [
            struct.pack(
                ">III",
                s.duration,
                len(s.data),
                SYNC_SAMPLE if s.keyframe else NON_SYNC_SAMPLE,
            )
            for s in video
        ]
        trafs.append((VIDEO_TRACK, video_time, b"".join(entries), [s.data for s in video]))
    if audio:
        entries = [struct.pack(">II", AAC_FRAME_SAMPLES, len(s.data)) for s in audio]
        trafs.append((AUDIO_TRACK, audio_time, b"".join(entries), [s.data for s in audio]))

    def moof(offsets: list[int]) -> bytes:
        parts = [full_box(b"mfhd", 0, 0, struct.pack(">I", sequence))]
        for (track, time, entries, _), offset in zip(trafs, offsets, strict=True):
            flags = 0x301 if track == AUDIO_TRACK else 0x701
            count = len(entries) // (8 if track == AUDIO_TRACK else 12)
            parts.append(
                box(
                    b"traf",
                    full_box(b"tfhd", 0, 0x020000, struct.pack(">I", track)),  # base is moof
                    full_box(b"tfdt", 1, 0, struct.pack(">Q", time)),
                    full_box(b"trun", 0, flags, struct.pack(">Ii", count, offset), entries),
                )
            )
        return box(b"moof", *parts)

    # The data offsets point from the start of moof into mdat: size moof once with
    # placeholders (its size does not depend on their values), then fill them in.
    head = len(moof([0] * len(trafs))) + 8
    offsets = []
    for _, _, _, data in trafs:
        offsets.append(head)
        head += sum(len(d) for d in data)
    payload = b"".join(b"".join(data) for _, _, _, data in trafs)
    return moof(offsets) + box(b"mdat", payload)
