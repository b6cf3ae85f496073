"""LL-HLS for the mass audience, end to end: the synthetic camera publishes a public show
to the real relay, whose playlist carries parts and holds a blocking reload until the next
part; the show page (a relay full from the first WebRTC viewer, so the phone is sent to
HLS) plays it in Chromium through hls.js, and the frame stamps the camera draws, read back
from the page's video through a canvas, give the glass-to-glass latency (docs/hls.md)."""

from __future__ import annotations

import base64
import io
import re
import statistics
import time
from typing import Any

import av
import numpy as np
import pytest
import requests

from sessions.clock import utcnow
from streaming import llhls
from streaming.framecode import delay_ms, read_stamp
from tests.browser.conftest import (  # noqa: F401  (the fixtures, reused)
    PHONE,
    Relay,
    db_session,
    seed,
    synthetic_camera,
    web,
)
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer
from tests.shows.test_hls_fallback_browser import (  # noqa: F401  (a relay with no WebRTC room)
    relay,
    wait_for_segments,
)
from tests.shows.test_player_browser import clock_moves

# What the test holds the player to: nearer live than plain HLS can ever be (a player of
# segments only waits three target durations behind). The figure itself (target: median
# under 3 s) is a measurement, printed here and in docs/hls.md from a quiet machine: a
# starved CI machine stalls the player, which a timed assertion would call a failure.
PLAIN_HLS_MS = 3 * llhls.TARGET_DURATION * 1000
SAMPLES = 45  # 3 s of the browser tests' 15 fps camera

# In the page: on each frame the video presents, draw it into a canvas, and keep the
# stamp's rows (grey) with the wall-clock time it was shown.
READ_FRAMES = """async (count) => {
  const video = document.getElementById("player");
  const canvas = document.createElement("canvas");
  const samples = [];
  await new Promise((resolve) => {
    const step = () => {
      const at = Date.now();
      const width = video.videoWidth, height = video.videoHeight;
      const rows = Math.round(height / 24) * 3;
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, width, height);
      const rgba = context.getImageData(0, 0, width, rows).data;
      let grey = "";
      for (let i = 0; i < width * rows; i++) {
        grey += String.fromCharCode((rgba[4 * i] + rgba[4 * i + 1] + rgba[4 * i + 2]) / 3);
      }
      samples.push({ at, width, height, rows, grey: btoa(grey) });
      if (samples.length >= count) resolve();
      else video.requestVideoFrameCallback(step);
    };
    video.requestVideoFrameCallback(step);
  });
  return samples;
}"""


def latencies(samples: list[dict[str, Any]]) -> list[int]:
    """Milliseconds from the camera drawing each frame to the page showing it."""
    found = []
    for sample in samples:
        rows = np.frombuffer(base64.b64decode(sample["grey"]), dtype=np.uint8)
        image = np.zeros((sample["height"], sample["width"]), dtype=np.uint8)
        image[: sample["rows"]] = rows.reshape(sample["rows"], sample["width"])
        stamp = read_stamp(image)
        if stamp is not None:
            found.append(delay_ms(stamp.sent_ms, sample["at"]))
    return found


def part_delay(init: bytes, parts: list[bytes], now_ms: int) -> int:
    """How old the newest frame of the newest part is when it is fetched."""
    container = av.open(io.BytesIO(init + b"".join(parts)), "r", format="mp4")
    stamps = [read_stamp(frame.to_ndarray(format="gray")) for frame in container.decode(video=0)]
    newest = [s for s in stamps if s is not None][-1]
    return delay_ms(newest.sent_ms, now_ms)


def part_uris(playlist: str) -> list[str]:
    return re.findall(r'#EXT-X-PART:[^\n]*URI="([^"]+)"', playlist)


@pytest.mark.browser
@pytest.mark.media
def test_ll_hls_plays_nearer_live_than_plain_hls(
    seed: Factory,  # noqa: F811
    web: WebServer,  # noqa: F811
    relay: Relay,  # noqa: F811
    synthetic_camera: Any,  # noqa: F811
    chromium: Any,
) -> None:
    brand = seed.brand()
    host = seed.associate(brand)
    show = seed.show(brand, starts_at=utcnow(), allow_past=True, host_ids=[host.id])
    live = seed.live_session(show)
    seed.session.commit()
    http = staff_http(web.url, seed.user_of(host).email)
    assert http.post(f"{web.url}/api/shows/{show.id}/start", timeout=10).ok
    synthetic_camera(live.room)
    url = f"{relay.url}/hls/{live.room}/index.m3u8"
    wait_for_segments(url)

    # The playlist: parts, their target, blocking reload with a hold-back, the next part.
    playlist = requests.get(url, timeout=10).text
    assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=" in playlist
    assert f"#EXT-X-PART-INF:PART-TARGET={llhls.PART_TARGET:.3f}" in playlist
    assert part_uris(playlist)
    hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"', playlist)
    assert hint is not None
    named = llhls.part_of(hint[1])
    assert named is not None
    _, msn, part = named
    assert part is not None, "the hint names a part, not a segment"
    assert hint[1] not in part_uris(playlist)
    # Asked for the part being made, the relay answers once it is written, not before.
    started = time.monotonic()
    held = requests.get(url, params={"_HLS_msn": msn, "_HLS_part": part}, timeout=30)
    waited = time.monotonic() - started
    assert held.status_code == 200
    assert held.headers["Cache-Control"] == "no-cache"
    # Answered with the part it asked for: the hinted one, or, when a keyframe closed the
    # segment first, the next segment's first part (which is what the hint then meant).
    sid = hint[1].split("-")[0]
    new_parts = [uri for uri in part_uris(held.text) if uri not in part_uris(playlist)]
    assert new_parts, "answered before a new part existed"
    assert new_parts[0] in (hint[1], f"{sid}-{msn + 1}.0.m4s")
    # The part itself, cacheable (its name never names anything else).
    fetched = requests.get(f"{relay.url}/hls/{live.room}/{new_parts[0]}", timeout=30)
    fetched_at = int(time.time() * 1000)
    assert fetched.status_code == 200 and fetched.content[4:8] == b"moof"
    # How old its newest frame is (decoded from its segment's parts so far, after the init).
    newest = llhls.part_of(new_parts[0])
    assert newest is not None and newest[2] is not None
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', playlist)
    assert init is not None
    head = requests.get(f"{relay.url}/hls/{live.room}/{init[1]}", timeout=10).content
    segment_parts = [
        requests.get(f"{relay.url}/hls/{live.room}/{sid}-{newest[1]}.{n}.m4s", timeout=30).content
        for n in range(newest[2] + 1)
    ]
    relay_ms = part_delay(head, segment_parts, fetched_at)
    assert fetched.headers["Cache-Control"] == "public, max-age=60"
    # Too far ahead: refused at once, not held.
    ahead = requests.get(url, params={"_HLS_msn": msn + 3}, timeout=10)
    assert ahead.status_code == 400

    context = chromium.new_context(**PHONE)
    # Counted for the report: each stall makes hls.js aim further behind live.
    context.add_init_script(
        "window.stalls = 0;"
        " document.addEventListener('waiting', () => { window.stalls += 1; }, true);"
    )
    page = context.new_page()
    try:
        page.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
        clock_moves(page, by=2.0)  # playing, and past hls.js's first catch-up
        assert page.evaluate("document.getElementById('player').srcObject") is None  # HLS
        assert page.evaluate("window.Hls && window.Hls.isSupported()") is True
        measured = latencies(page.evaluate(READ_FRAMES, SAMPLES))
        ahead = page.evaluate(
            "(() => { const v = document.getElementById('player');"
            " return v.buffered.end(v.buffered.length - 1) - v.currentTime; })()"
        )
        stalls = page.evaluate("window.stalls")
    finally:
        context.close()
    assert len(measured) >= SAMPLES // 2, "the stamps should read back from the canvas"
    median = statistics.median(measured)
    print(
        f"LL-HLS glass-to-glass: median {median:.0f} ms, min {min(measured)} ms,"
        f" max {max(measured)} ms over {len(measured)} frames;"
        f" blocking reload held {waited * 1000:.0f} ms; newest part {relay_ms} ms old"
        f" when fetched; player {ahead:.2f} s behind its buffer's end, {stalls} stalls"
    )
    assert median < PLAIN_HLS_MS, "playing as far behind as plain HLS: parts unused"
