"""Detecting the reference card and correcting one 1280×720 frame, against a plain JPEG
encode of the same frame, in the same run.

    .venv/bin/python bench/colour_card.py [--runs 15] [--light "warm tungsten"]

The frame is a synthetic camera frame (sessions/colour/scene.py: the card, a piece, a
cast, sensor noise, JPEG as the relay sends it). Each step is timed `--runs` times on one
core (median and worst reported):

- detect: ArUco markers, homography, the 24 patches read (sessions/colour/detect.py);
- fit: the Cheung 2004 correction and its residual ΔE2000 (colour-science);
- correct: the whole frame corrected (the snapshot the shopper sees);
- analyse: the three together, what the console does per snapshot;
- baseline: ``cv2.imencode(".jpg")`` of the same frame at the relay's quality, the least
  any snapshot costs (the relay does it for every snapshot already).

The ratio analyse / JPEG says what colour truth adds to taking a snapshot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from sessions.colour import analyse, scene  # noqa: E402
from sessions.colour.correct import fit  # noqa: E402
from sessions.colour.detect import find_card  # noqa: E402
from streaming.imaging import JPEG_QUALITY  # noqa: E402


def timed(step: Callable[[], object], runs: int) -> list[float]:
    step()  # warm: first-call allocations and OpenCV's lazy init are not the steady cost
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--light", default="warm tungsten", choices=sorted(scene.LIGHTS))
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core, as a web worker gets it
    frame = scene.render(args.light, size=(1280, 720)).rgb
    bgr = frame[..., ::-1].copy()
    reading = find_card(frame)
    correction = fit(reading)
    steps: dict[str, Callable[[], object]] = {
        "detect": lambda: find_card(frame),
        "fit": lambda: fit(reading),
        "correct": lambda: correction.apply(frame),
        "analyse": lambda: analyse(frame),
        "jpeg (baseline)": lambda: cv2.imencode(
            ".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        ),
    }
    print(f"1280×720, {args.light}, {args.runs} runs, 1 thread, pid {os.getpid()}")
    print(
        f"card: {len(reading.indices)} patches, ΔE2000 mean {correction.delta_e_mean:.2f} "
        f"max {correction.delta_e_max:.2f}"
    )
    medians = {}
    for name, step in steps.items():
        times = timed(step, args.runs)
        medians[name] = statistics.median(times)
        print(f"{name:16s} median {medians[name]:7.1f} ms   worst {max(times):7.1f} ms")
    ratio = medians["analyse"] / medians["jpeg (baseline)"]
    print(f"analyse / jpeg: {ratio:.1f}×")


if __name__ == "__main__":
    main()
