"""Vitrine relay vs aiortc's stock MediaRelay, same synthetic source, same run.

    .venv/bin/python bench/relay_bench.py [--viewers 1,8,32,64,128] [--seconds 10]

For each relay and viewer count it starts the relay as its own process, one
synthetic 640x480 30 fps publisher process and load-generator processes of
receive-only viewers (see ``bench/relay/load.py``), lets things settle, then
measures over a window: the relay process's CPU (psutil), frames delivered per
viewer and, from the frame stamp read by a few decoding viewers, the
publisher-to-viewer delay. MediaRelay re-encodes per viewer, so it is measured
only up to ``--baseline-max`` viewers (it saturates the machine beyond that).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SECRET = "bench-secret"
ROOM = "bench"
FPS = 30
VIEWERS_PER_WORKER = 32
LOG = Path("/tmp/relay_bench.log")  # stderr of every child, for when a run fails


@dataclass
class Result:
    system: str
    viewers: int
    cpu_percent: float
    frames_ratio: float
    of_source: float | None  # decoded / published, from the frame counters
    source_fps: float | None
    machine_cpu: float
    p50: float | None
    p99: float | None
    connected: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NICE = 0  # set from --nice: raise the bench's priority on a shared machine
LOAD_NICE_GAP = 8


def _renice_priority() -> None:
    if NICE:
        os.nice(NICE)


def _renice_load() -> None:
    # The load generator ranks above other work on the machine but below the
    # relay and the publisher: on 2 cores they compete, and the relay must not be
    # the one starved (that would measure the load generator, not the relay).
    if NICE:
        os.nice(min(0, NICE + LOAD_NICE_GAP))


def spawn(*args: str, stdin: bool = False, priority: bool = False) -> subprocess.Popen[str]:
    """Start a child; ``priority`` children (relay, publisher) get ``--nice``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MEDIA_GRANT_SECRET": SECRET}
    return subprocess.Popen(
        [PYTHON, *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=LOG.open("a"),
        preexec_fn=_renice_priority if priority else _renice_load,
    )


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_listening(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


@contextmanager
def relay_process(system: str, media_dir: Path) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    if system == "vitrine":
        os.environ["RELAY_MEDIA_DIR"] = str(media_dir)
        process = spawn(
            "-m", "streaming", "--port", str(port), "--log-level", "WARNING", priority=True
        )
    else:
        process = spawn(
            "-m", "bench.relay.baseline", "--port", str(port), "--grant-secret", SECRET,
            priority=True,
        )  # fmt: skip
    try:
        wait_until_listening(port)
        url = f"http://127.0.0.1:{port}"
        # A public, recorded show (as the web app says of shows): the relay writes the
        # recording and HLS it would in production.
        publisher = spawn(
            "-m", "streaming.synthetic", "--relay", url, "--room", ROOM, "--grant-secret", SECRET,
            "--public", "--record", priority=True,
        )  # fmt: skip
        try:
            time.sleep(2)  # the publisher connects and frames flow
            yield url, psutil.Process(process.pid)
        finally:
            stop(publisher)
    finally:
        stop(process)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def measure(
    system: str, url: str, relay: psutil.Process, viewers: int, seconds: float, decoders: int
) -> Result:
    workers: list[subprocess.Popen[str]] = []
    if viewers:
        count = math.ceil(viewers / VIEWERS_PER_WORKER)
        for index in range(count):
            share = viewers // count + (1 if index < viewers % count else 0)
            mine = decoders // count + (1 if index < decoders % count else 0)
            workers.append(
                spawn(
                    "-m", "bench.relay.load", "--relay", url, "--room", ROOM,
                    "--grant-secret", SECRET, "--viewers", str(share), "--decoders", str(mine),
                    stdin=True,
                )
            )  # fmt: skip
    try:
        for worker in workers:
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                raise RuntimeError("a load worker failed to connect")
        time.sleep(2)  # settle: every viewer past its first keyframe
        start = time.time()
        end = start + seconds
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(f"{start} {end}\n")
            worker.stdin.flush()
        cpu_before = cpu_seconds(relay)
        psutil.cpu_percent()
        time.sleep(max(0.0, end - time.time()))
        cpu = (cpu_seconds(relay) - cpu_before) / seconds * 100
        machine = psutil.cpu_percent() * psutil.cpu_count()
        frames: list[int] = []
        delays: list[int] = []
        stamps: list[tuple[int, int, int]] = []
        connected = 0
        for worker in workers:
            assert worker.stdout is not None
            result = json.loads(worker.stdout.readline())
            frames += result["frames"]
            delays += result["delays"]
            stamps += result["stamps"]
            connected += result["connected"]
            worker.wait(15)
    finally:
        for worker in workers:
            stop(worker)
    # Against the best-served viewer's count: what the relay had to send in the
    # window, so a publisher slowed down by a busy machine is not blamed on the relay.
    expected = max(frames, default=0)
    ratio = sum(frames) / (expected * len(frames)) if expected else 0.0
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    source_fps = expected / seconds if expected else None
    published = sum(last - first + 1 for _, first, last in stamps)
    of_source = sum(count for count, _, _ in stamps) / published if published else None
    return Result(system, viewers, cpu, ratio, of_source, source_fps, machine, p50, p99, connected)


def percentile(values: list[int], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return float(ordered[index])


def per_viewer(result: Result, idle: Result) -> float:
    """Marginal CPU per viewer: what viewers add over publisher-only ingest."""
    return max(result.cpu_percent - idle.cpu_percent, 0.0) / result.viewers


def cpu_per_frame_us(result: Result, idle: Result) -> float | None:
    """Marginal relay CPU per frame actually delivered to one viewer, in µs.

    Per-viewer CPU alone flatters a relay that cannot keep up (it delivers
    fewer frames for the same CPU); this charges CPU to frames delivered.
    """
    delivered = result.viewers * (result.source_fps or 0.0) * result.frames_ratio
    if not delivered:
        return None
    return per_viewer(result, idle) * result.viewers / 100 / delivered * 1e6


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(results: list[Result]) -> None:
    idle = {r.system: r for r in results if r.viewers == 0}
    print()
    header = (
        f"{'relay':<11}{'viewers':>8}{'connected':>10}{'relay CPU %':>12}"
        f"{'CPU %/viewer':>13}{'µs/frame':>9}{'src fps':>8}{'frames %':>10}{'of src %':>9}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'box CPU %':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        pv = per_viewer(r, idle[r.system]) if r.viewers else None
        us = cpu_per_frame_us(r, idle[r.system]) if r.viewers else None
        print(
            f"{r.system:<11}{r.viewers:>8}{r.connected if r.viewers else '-':>10}"
            f"{r.cpu_percent:>12.1f}{fmt(pv, 2):>13}{fmt(us):>9}{fmt(r.source_fps, 1):>8}"
            f"{fmt(r.frames_ratio * 100 if r.viewers else None, 1):>10}"
            f"{fmt(r.of_source * 100 if r.of_source is not None else None, 1):>9}"
            f"{fmt(r.p50):>8}{fmt(r.p99):>8}{r.machine_cpu:>10.0f}"
        )
    print()
    base = {r.viewers: r for r in results if r.system == "mediarelay" and r.viewers}
    ours = {r.viewers: r for r in results if r.system == "vitrine" and r.viewers}
    for n in sorted(set(base) & set(ours)):
        theirs = per_viewer(base[n], idle["mediarelay"])
        mine = per_viewer(ours[n], idle["vitrine"])
        ratio = theirs / mine if mine > 0 else float("inf")
        print(f"{n} viewers: per-viewer relay CPU, MediaRelay / Vitrine: {ratio:.1f}x", end="")
        theirs_us = cpu_per_frame_us(base[n], idle["mediarelay"])
        mine_us = cpu_per_frame_us(ours[n], idle["vitrine"])
        if theirs_us and mine_us:
            print(f"; per delivered frame: {theirs_us / mine_us:.1f}x", end="")
        print()


def main() -> None:
    # Turn SIGTERM into SystemExit so the finally blocks stop every child process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="1,8,32,64,128")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--baseline-max", type=int, default=8)
    parser.add_argument("--decoders", type=int, default=4, help="decoding viewers per run")
    parser.add_argument("--only", choices=["vitrine", "mediarelay"])
    parser.add_argument(
        "--nice", type=int, default=0, help="niceness increment for every child (e.g. -10 as root)"
    )
    args = parser.parse_args()
    global NICE
    NICE = args.nice
    counts = [int(n) for n in args.viewers.split(",") if n.strip()]
    results: list[Result] = []
    # The relay records and segments while it runs: keep that out of the tree.
    scratch = tempfile.TemporaryDirectory(prefix="relay-bench-")
    media_dir = Path(scratch.name)
    for system in ("vitrine", "mediarelay"):
        if args.only and system != args.only:
            continue
        wanted = counts if system == "vitrine" else [n for n in counts if n <= args.baseline_max]
        with relay_process(system, media_dir) as (url, relay):
            for n in [0, *wanted]:
                result = measure(system, url, relay, n, args.seconds, min(args.decoders, n))
                results.append(result)
                print(
                    f"{system} {n} viewers: cpu {result.cpu_percent:.0f}% "
                    f"frames {result.frames_ratio * 100:.1f}% "
                    f"of source {fmt(result.of_source and result.of_source * 100, 1)}% "
                    f"p99 {fmt(result.p99)} ms",
                    file=sys.stderr,
                    flush=True,
                )
    scratch.cleanup()
    print_table(results)


if __name__ == "__main__":
    main()
