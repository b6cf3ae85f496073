"""Vitrine relay vs aiortc's stock MediaRelay, same synthetic source, same run.

    .venv/bin/python bench/relay_bench.py [--viewers 1,4,8] [--seconds 5]

Both relays are measured in the same run, one after the other, at the same viewer
counts, priority and window. For each relay it starts the relay as its own
process and one synthetic 640x480 30 fps publisher (``bench/relay/publisher.py``),
then for each viewer count load-generator processes of receive-only viewers (see
``bench/relay/load.py``); after a warm-up it measures over a window:

- relay CPU (psutil): total, and per viewer over the publisher-only (0 viewers) row;
- frames: every viewer decodes and reads the frame number the synthetic camera
  stamps into each picture (``streaming.framecode``). A frame is in the window
  if the send time stamped into it is; "frames %" is the distinct publisher frame
  numbers each viewer decoded over the frame numbers the publisher says it sent
  in the window, averaged over viewers (a viewer that got nothing counts as 0);
- fps: the publisher's frames in the window / window length ("src fps"), and the
  same for what an average viewer decoded ("viewer fps"), so neither can exceed
  the source rate;
- the publisher-to-viewer delay from the stamped send time to arrival.

Every viewer decodes, which costs the load generator CPU: keep viewer counts small
on a 2-core machine.
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
VIEWERS_PER_WORKER = 4  # decoding viewers per load process
LOG = Path("/tmp/relay_bench.log")  # stderr of every child, for when a run fails


@dataclass
class Result:
    system: str
    viewers: int
    cpu_percent: float  # total relay CPU over the window, % of one core
    frames_ratio: float  # publisher frames decoded per viewer / publisher frames sent
    source_fps: float  # publisher frames sent in the window / window
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
def relay_process(
    system: str, media_dir: Path
) -> Iterator[tuple[str, psutil.Process, subprocess.Popen[str]]]:
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
            "-m", "bench.relay.publisher", "--relay", url, "--room", ROOM,
            "--grant-secret", SECRET, stdin=True, priority=True,
        )  # fmt: skip
        try:
            assert publisher.stdout is not None
            if publisher.stdout.readline().strip() != "ready":
                raise RuntimeError("the publisher failed to connect")
            time.sleep(2)  # frames flow
            yield url, psutil.Process(process.pid), publisher
        finally:
            stop(publisher)
    finally:
        stop(process)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def measure(
    system: str,
    url: str,
    relay: psutil.Process,
    publisher: subprocess.Popen[str],
    viewers: int,
    seconds: float,
    warmup: float,
) -> Result:
    workers: list[subprocess.Popen[str]] = []
    if viewers:
        count = math.ceil(viewers / VIEWERS_PER_WORKER)
        for index in range(count):
            share = viewers // count + (1 if index < viewers % count else 0)
            workers.append(
                spawn(
                    "-m", "bench.relay.load", "--relay", url, "--room", ROOM,
                    "--grant-secret", SECRET, "--viewers", str(share), "--decoders", str(share),
                    stdin=True,
                )
            )  # fmt: skip
    try:
        for worker in workers:
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                raise RuntimeError("a load worker failed to connect")
        time.sleep(warmup)  # every viewer past its first keyframe, decoders warm
        start = time.time()
        end = start + seconds
        for process in [publisher, *workers]:
            assert process.stdin is not None
            process.stdin.write(f"{start} {end}\n")
            process.stdin.flush()
        cpu_before = cpu_seconds(relay)
        psutil.cpu_percent()
        time.sleep(max(0.0, end - time.time()))
        cpu = (cpu_seconds(relay) - cpu_before) / seconds * 100
        machine = psutil.cpu_percent() * psutil.cpu_count()
        assert publisher.stdout is not None
        sent = set(json.loads(publisher.stdout.readline()))
        decoded: list[int] = []
        delays: list[int] = []
        connected = 0
        for worker in workers:
            assert worker.stdout is not None
            result = json.loads(worker.stdout.readline())
            decoded += [len(sent.intersection(seen)) for seen in result["seen"]]
            delays += result["delays"]
            connected += result["connected"]
            worker.wait(15)
    finally:
        for worker in workers:
            stop(worker)
    # Against the publisher's own frame numbers: what it sent in the window.
    ratio = sum(decoded) / (len(sent) * viewers) if sent and viewers else 0.0
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    return Result(system, viewers, cpu, ratio, len(sent) / seconds, machine, p50, p99, connected)


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
    delivered = result.viewers * result.source_fps * result.frames_ratio
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
        f"{'CPU %/viewer':>13}{'µs/frame':>9}{'src fps':>8}{'viewer fps':>11}{'frames %':>9}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'box CPU %':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        pv = per_viewer(r, idle[r.system]) if r.viewers else None
        us = cpu_per_frame_us(r, idle[r.system]) if r.viewers else None
        viewer_fps = r.source_fps * r.frames_ratio if r.viewers else None
        print(
            f"{r.system:<11}{r.viewers:>8}{r.connected if r.viewers else '-':>10}"
            f"{r.cpu_percent:>12.1f}{fmt(pv, 2):>13}{fmt(us):>9}{r.source_fps:>8.1f}"
            f"{fmt(viewer_fps, 1):>11}{fmt(r.frames_ratio * 100 if r.viewers else None, 1):>9}"
            f"{fmt(r.p50):>8}{fmt(r.p99):>8}{r.machine_cpu:>10.0f}"
        )
    print()
    base = {r.viewers: r for r in results if r.system == "mediarelay" and r.viewers}
    ours = {r.viewers: r for r in results if r.system == "vitrine" and r.viewers}
    for n in sorted(set(base) & set(ours)):
        # Total relay CPU first: at few viewers the per-viewer ratio divides two
        # small, noisy differences.
        print(
            f"{n} viewers: relay CPU, MediaRelay / Vitrine: total "
            f"{base[n].cpu_percent / max(ours[n].cpu_percent, 0.1):.1f}x",
            end="",
        )
        theirs = per_viewer(base[n], idle["mediarelay"])
        mine = per_viewer(ours[n], idle["vitrine"])
        if mine > 0:
            print(f"; per viewer {theirs / mine:.1f}x", end="")
        theirs_us = cpu_per_frame_us(base[n], idle["mediarelay"])
        mine_us = cpu_per_frame_us(ours[n], idle["vitrine"])
        if theirs_us and mine_us:
            print(f"; per delivered frame {theirs_us / mine_us:.1f}x", end="")
        print()


def main() -> None:
    # Turn SIGTERM into SystemExit so the finally blocks stop every child process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="1,4,8", help="comma-separated viewer counts")
    parser.add_argument("--seconds", type=float, default=5, help="measuring window per row")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before each window")
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
    # Same counts, window, warm-up and priority for both relays.
    for system in ("vitrine", "mediarelay"):
        if args.only and system != args.only:
            continue
        with relay_process(system, media_dir) as (url, relay, publisher):
            for n in [0, *counts]:
                result = measure(system, url, relay, publisher, n, args.seconds, args.warmup)
                results.append(result)
                print(
                    f"{system} {n} viewers: cpu {result.cpu_percent:.0f}% "
                    f"src {result.source_fps:.1f} fps frames {result.frames_ratio * 100:.1f}% "
                    f"p99 {fmt(result.p99)} ms",
                    file=sys.stderr,
                    flush=True,
                )
    scratch.cleanup()
    print_table(results)


if __name__ == "__main__":
    main()
