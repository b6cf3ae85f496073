"""Vitrine relay vs aiortc's stock MediaRelay, and one relay vs origin + edge, same run.

    .venv/bin/python bench/relay_bench.py [--viewers 1,4,8] [--seconds 5]
        [--systems vitrine,mediarelay,edge]

Three systems: ``vitrine`` (one relay process), ``mediarelay`` (aiortc's stock
``MediaRelay``, the baseline) and ``edge`` (an origin relay and an edge relay that
pulls the room from it, ``streaming/edge.py``: the viewers are split evenly between
the two processes, so the row says what two relay processes of one show carry
against one alone; relay CPU is the two processes' sum, and "per process" columns
give the viewers and CPU of each).

The systems are measured in the same run, one after the other, at the same viewer
counts, priority and window. For each it starts the relay (or relays) as its own
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
on a 2-core machine, or give ``--decoders N`` (N decoding viewers per load process,
the others counting frames from RTP headers; frames %, fps and delays are then the
decoding viewers'). The load average is printed with the table: on a shared machine
it says how much else ran.
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
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SECRET = "bench-secret"
ROOM = "bench"
FPS = 30
VIEWERS_PER_WORKER = 4  # viewers per load process (all decoding, unless --decoders)
# --decoders: decoding viewers per load process; the others count frames from RTP
# headers (bench/relay/load.py), so a load process holds many more of them.
DECODERS: int | None = None
COUNTING_VIEWERS_PER_WORKER = 40
LOG = Path("/tmp/relay_bench.log")
SYSTEMS = ("vitrine", "mediarelay", "edge")  # stderr of every child, for when a run fails


INTERNAL_TOKEN = "bench-internal-token"  # the edge's pull route wants the web nodes' token


@dataclass
class Result:
    system: str
    viewers: int
    cpu_percent: float  # total relay CPU over the window (all its processes), % of one core
    frames_ratio: float  # publisher frames decoded per viewer / publisher frames sent
    source_fps: float  # publisher frames sent in the window / window
    machine_cpu: float
    p50: float | None
    p99: float | None
    connected: int
    processes: int = 1  # relay processes serving the viewers
    process_cpu: tuple[float, ...] = ()  # each relay process's CPU, % of one core


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
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MEDIA_GRANT_SECRET": SECRET,
        "RELAY_INTERNAL_TOKEN": INTERNAL_TOKEN,
    }
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


@dataclass
class Setup:
    """What one system runs: viewers go to ``urls`` in turn (one per relay process)."""

    urls: list[str]
    relays: list[psutil.Process]
    publisher: subprocess.Popen[str]


def start_relay(system: str, media_dir: Path) -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    if system == "mediarelay":
        process = spawn(
            "-m", "bench.relay.baseline", "--port", str(port), "--grant-secret", SECRET,
            priority=True,
        )  # fmt: skip
    else:
        media_dir.mkdir(parents=True, exist_ok=True)
        os.environ["RELAY_MEDIA_DIR"] = str(media_dir)
        process = spawn(
            "-m", "streaming", "--port", str(port), "--log-level", "WARNING", priority=True
        )
    try:
        wait_until_listening(port)
    except BaseException:
        stop(process)
        raise
    return f"http://127.0.0.1:{port}", process


def pull_room(edge: str, origin: str) -> None:
    """Tell the edge to pull the bench's room from the origin, as a web node would."""
    request = urllib.request.Request(
        f"{edge}/rooms/{ROOM}/pull",
        data=json.dumps({"origin": origin}).encode(),
        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        if response.status not in (200, 201):
            raise RuntimeError(f"the edge refused to pull: {response.status}")


def wait_edge_live(edge: str, timeout: float = 20) -> None:
    """Until the edge gets the origin's frames (its subscription is up)."""
    request = urllib.request.Request(
        f"{edge}/rooms/{ROOM}/pull", headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=15) as response:
            if json.loads(response.read())["state"] == "live":
                return
        time.sleep(0.2)  # another process's state: nothing to await here
    raise RuntimeError("the edge never got the origin's frames")


@contextmanager
def relay_process(system: str, media_dir: Path) -> Iterator[Setup]:
    with ExitStack() as stack:
        url, process = start_relay("mediarelay" if system == "mediarelay" else "vitrine", media_dir)
        stack.callback(stop, process)
        processes = [process]
        # A public, recorded show (as the web app says of shows): the relay writes the
        # recording and HLS it would in production.
        publisher = spawn(
            "-m", "bench.relay.publisher", "--relay", url, "--room", ROOM,
            "--grant-secret", SECRET, stdin=True, priority=True,
        )  # fmt: skip
        stack.callback(stop, publisher)
        assert publisher.stdout is not None
        if publisher.stdout.readline().strip() != "ready":
            raise RuntimeError("the publisher failed to connect")
        urls = [url]
        if system == "edge":
            edge_url, edge = start_relay("vitrine", media_dir / "edge")
            stack.callback(stop, edge)
            pull_room(edge_url, url)
            wait_edge_live(edge_url)
            urls.append(edge_url)
            processes.append(edge)
        time.sleep(2)  # frames flow
        yield Setup(urls, [psutil.Process(p.pid) for p in processes], publisher)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def measure(system: str, setup: Setup, viewers: int, seconds: float, warmup: float) -> Result:
    publisher = setup.publisher
    workers: list[subprocess.Popen[str]] = []
    if viewers:
        # At least one load process per relay, and as many viewers on each relay.
        per_worker = VIEWERS_PER_WORKER if DECODERS is None else COUNTING_VIEWERS_PER_WORKER
        count = max(math.ceil(viewers / per_worker), len(setup.urls))
        count += -count % len(setup.urls)
        for index in range(count):
            share = viewers // count + (1 if index < viewers % count else 0)
            url = setup.urls[index % len(setup.urls)]
            workers.append(
                spawn(
                    "-m", "bench.relay.load", "--relay", url, "--room", ROOM,
                    "--grant-secret", SECRET, "--viewers", str(share),
                    "--decoders", str(share if DECODERS is None else min(DECODERS, share)),
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
        cpu_before = [cpu_seconds(relay) for relay in setup.relays]
        psutil.cpu_percent()
        time.sleep(max(0.0, end - time.time()))
        per_process = tuple(
            (cpu_seconds(relay) - before) / seconds * 100
            for relay, before in zip(setup.relays, cpu_before, strict=True)
        )
        cpu = sum(per_process)
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
    # Over the decoding viewers (all of them unless --decoders).
    ratio = sum(decoded) / (len(sent) * len(decoded)) if sent and decoded else 0.0
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    return Result(
        system, viewers, cpu, ratio, len(sent) / seconds, machine, p50, p99, connected,
        processes=len(setup.relays), process_cpu=per_process,
    )  # fmt: skip


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
        f"{'p50 ms':>8}{'p99 ms':>8}{'box CPU %':>10}{'viewers/proc':>13}  CPU % per process"
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
            f"{r.viewers / r.processes:>13.1f}  {' + '.join(f'{c:.0f}' for c in r.process_cpu)}"
        )
    print(
        f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
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
    alone = {r.viewers: r for r in results if r.system == "vitrine" and r.viewers}
    fanned = {r.viewers: r for r in results if r.system == "edge" and r.viewers}
    for n in sorted(set(alone) & set(fanned)):
        one, two = alone[n], fanned[n]
        print(
            f"{n} viewers: one relay {one.cpu_percent:.0f}% CPU, {one.frames_ratio * 100:.1f}% of"
            f" frames, p99 {fmt(one.p99)} ms; origin + edge {two.cpu_percent:.0f}%"
            f" ({' + '.join(f'{c:.0f}' for c in two.process_cpu)}),"
            f" {two.frames_ratio * 100:.1f}% of frames, p99 {fmt(two.p99)} ms"
        )


def main() -> None:
    # Turn SIGTERM into SystemExit so the finally blocks stop every child process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="1,4,8", help="comma-separated viewer counts")
    parser.add_argument("--seconds", type=float, default=5, help="measuring window per row")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before each window")
    parser.add_argument(
        "--systems",
        default="vitrine,mediarelay,edge",
        help="comma-separated, of vitrine (one relay), mediarelay (the baseline), edge"
        " (origin + edge relay, viewers split between them)",
    )
    parser.add_argument("--only", choices=SYSTEMS, help="one system (same as --systems X)")
    parser.add_argument(
        "--nice", type=int, default=0, help="niceness increment for every child (e.g. -10 as root)"
    )
    parser.add_argument(
        "--decoders",
        type=int,
        help="decoding viewers per load process (the rest count RTP frames; for large counts)",
    )
    args = parser.parse_args()
    global NICE, DECODERS
    NICE = args.nice
    DECODERS = args.decoders
    counts = [int(n) for n in args.viewers.split(",") if n.strip()]
    results: list[Result] = []
    # The relay records and segments while it runs: keep that out of the tree.
    scratch = tempfile.TemporaryDirectory(prefix="relay-bench-")
    media_dir = Path(scratch.name)
    systems = (
        [args.only] if args.only else [s.strip() for s in args.systems.split(",") if s.strip()]
    )
    if unknown := set(systems) - set(SYSTEMS):
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    # Same counts, window, warm-up and priority for every system.
    for system in [s for s in SYSTEMS if s in systems]:
        with relay_process(system, media_dir / system) as setup:
            for n in [0, *counts]:
                result = measure(system, setup, n, args.seconds, args.warmup)
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
