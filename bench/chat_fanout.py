"""Chat fan-out: Vitrine's rooms vs a bare Flask-SocketIO broadcast server, same run.

    .venv/bin/python bench/chat_fanout.py [--viewers 1000] [--rates 25,50,100] [--seconds 8]

For each server (the bare baseline of bench/baseline_server.py, then a real
Vitrine web node on a fresh SQLite file) it connects `--viewers` raw WebSocket
clients speaking the Engine.IO/Socket.IO text protocol, spread over several
processes so the load generator is not the limit, joins them to one room, and
has one sender chat at each rate for `--seconds`. Each message carries its
send time; every viewer counts what arrives (a substring count, no JSON) and one
in ten (the probes) decodes each message and records its send-to-receipt delay.
Reported per rate: delivered messages/s, p50/p99 send-to-receipt delay, messages
lost, the server process's CPU time per delivered message and the cores used by
the server and by the load generator (psutil). Vitrine stores and checks every
message and batches deliveries per room (`--batch-ms`, default the node's
100 ms). Two baselines: the bare server emitting one frame per message, and the
same bare server batching a room's messages every `--batch-ms` (the fair one: the
generator parses as many frames for it as for Vitrine). When server + generator
use >= 90 % of the machine's cores, or messages are lost, the p99 is the
machine's queue, not the server's: it is printed as "saturated", never compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
import requests  # noqa: E402

from tests.servers import WebServer, free_port, wait_http  # noqa: E402

LOG = Path(tempfile.gettempdir()) / "chat_fanout.log"
# Every viewer counts what it receives; one in PROBE_EVERY also decodes each message to
# measure its delay, so that 100,000 deliveries/s do not saturate the load generator.
PROBE_EVERY = 10
# Above this share of the machine's cores in use (server + generator), a delay measures
# the queue for a core: the p99 is not reported.
SATURATED = 0.9


# --- a minimal Socket.IO client over one WebSocket ------------------------------------


class RawSocket:
    """Engine.IO 4 / Socket.IO 5 text frames: enough to join, chat and receive."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.acks = 0

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, base: str, cookie: str = "") -> RawSocket:
        url = base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        headers = {"Cookie": cookie} if cookie else {}
        ws = await http.ws_connect(url, headers=headers, max_msg_size=0, heartbeat=None)
        sock = cls(ws)
        await sock._expect("0")
        await ws.send_str("40")
        await sock._expect("40")
        return sock

    async def _expect(self, prefix: str) -> str:
        while True:
            frame = await self.ws.receive_str()
            if frame == "2":
                await self.ws.send_str("3")
            elif frame.startswith(prefix):
                return frame

    async def call(self, event: str, data: dict[str, Any]) -> Any:
        self.acks += 1
        ack_id = str(self.acks)
        await self.ws.send_str(f"42{ack_id}" + json.dumps([event, data]))
        frame = await self._expect(f"43{ack_id}")
        return json.loads(frame[2 + len(ack_id) :])[0]

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        await self.ws.send_str("42" + json.dumps([event, data]))


# --- viewers (one process holds many) ------------------------------------------------


def _on_frame(frame: str, stats: dict[int, list[float]] | None, now: float) -> int:
    """Count the chat messages in an event frame; probes also record each one's delay."""
    if not frame.startswith("42"):
        return 0
    if stats is None:  # not a probe: count without decoding (the generator must not be the limit)
        return frame.count('"body":')
    name, *args = json.loads(frame[2:])
    if name == "messages":  # Vitrine: a batch
        items = args[0]
    elif name == "message":  # baseline: one per packet
        items = [args[0]]
    else:
        return 0
    for item in items:
        step, _n, sent = item["body"].split(" ")
        stats.setdefault(int(step), []).append(now - float(sent))
    return len(items)


async def _viewer(
    base: str,
    session_id: int,
    stats: dict[int, list[float]] | None,
    counts: list[int],
    http: aiohttp.ClientSession,
) -> None:
    sock = await RawSocket.open(http, base)
    ack = await sock.call("join", {"session_id": session_id})
    assert ack.get("ok"), ack
    counts[0] += 1
    # Plain awaits: no per-frame timer or task, so the generator spends its time on frames.
    async for msg in sock.ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        if msg.data == "2":
            await sock.ws.send_str("3")
            continue
        counts[1] += _on_frame(msg.data, stats, time.time())


def viewer_process(
    base: str,
    session_id: int,
    count: int,
    joined: Any,
    received: Any,
    stop_flag: Any,
    out: Any,
) -> None:
    async def main() -> dict[int, list[float]]:
        stats: dict[int, list[float]] = {}
        counts = [0, 0]  # joined, messages received: copied to shared counters now and then
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            tasks = []
            for i in range(count):
                probe = stats if i % PROBE_EVERY == 0 else None  # the others only count
                tasks.append(asyncio.create_task(_viewer(base, session_id, probe, counts, http)))
                await asyncio.sleep(0.002)  # a connection storm is another benchmark
            reported = [0, 0]
            while not stop_flag.is_set():
                await asyncio.sleep(0.1)
                for i, shared in enumerate((joined, received)):
                    with shared.get_lock():
                        shared.value += counts[i] - reported[i]
                    reported[i] = counts[i]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return stats

    out.put(asyncio.run(main()))


# --- servers -----------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    session_id: int
    cookie: str


def start_baseline(batch_ms: int = 0) -> Server:
    """The bare server; with `batch_ms`, batching a room's messages as Vitrine does."""
    port = free_port()
    log = LOG.open("ab")
    cmd = [sys.executable, str(ROOT / "bench/baseline_server.py"), "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--batch-ms", str(batch_ms)], cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/health", proc)
    name = f"bare, batched {batch_ms} ms" if batch_ms else "bare Flask-SocketIO"
    return Server(name, url, proc, 1, "")


def start_vitrine(workdir: Path, batch_ms: int) -> Server:
    from sqlmodel import Session

    from sessions.db import create_all, make_engine
    from sessions.passwords import use_fast_hashing_for_tests
    from sessions.shows import lifecycle
    from tests.factories import OPERATOR, Factory

    use_fast_hashing_for_tests()
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as db:
        factory = Factory(db)
        brand = factory.brand()
        host = factory.associate(brand)
        show = factory.show(brand, host_ids=[host.id])
        live = lifecycle.do_start_show(db, OPERATOR, show)
        email = factory.user_of(host).email
        db.commit()
    engine.dispose()
    node = WebServer(
        database_url,
        workdir,
        env={"CHAT_BATCH_MS": str(batch_ms)},
        create_schema=False,
        log=LOG.open("ab"),
    ).start()
    assert node.proc is not None
    url = node.url
    http = requests.Session()
    page = http.get(f"{url}/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    http.post(
        f"{url}/login",
        data={"email": email, "password": Factory.PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    assert live.id is not None
    return Server("Vitrine room", url, node.proc, live.id, cookie)


# --- one run -----------------------------------------------------------------------


@dataclass
class Row:
    server: str
    rate: int
    sent: int
    delivered_per_s: float
    p50_ms: float
    p99_ms: float
    lost: int
    cpu_us_per_delivery: float
    server_cores: float  # CPU seconds per second over the step
    generator_cores: float  # the viewer processes', the same way

    @property
    def saturated(self) -> bool:
        """The machine, not the server, sets the delays: its cores are nearly all busy
        (server + load generator), or messages were lost. No p99 is claimed then."""
        busy = self.server_cores + self.generator_cores
        return busy >= SATURATED * (os.cpu_count() or 1) or self.lost > 0


async def _send(server: Server, rate: int, seconds: float, step: int) -> int:
    async with aiohttp.ClientSession() as http:
        sock = await RawSocket.open(http, server.url, server.cookie)
        ack = await sock.call("join", {"session_id": server.session_id})
        assert ack.get("ok"), ack
        total = int(rate * seconds)
        start = time.monotonic()
        for n in range(total):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            body = f"{step} {n} {time.time():.6f}"
            await sock.emit(
                "chat", {"session_id": server.session_id, "body": body, "client_id": f"{step}-{n}"}
            )
        await sock.ws.close()
        return total


def run_server(
    server: Server, viewers: int, workers: int, rates: list[int], seconds: float
) -> list[Row]:
    ctx = mp.get_context("spawn")
    joined, received = ctx.Value("q", 0), ctx.Value("q", 0)
    stop_flag, out = ctx.Event(), ctx.Queue()
    procs = []
    for w in range(workers):
        share = viewers // workers + (1 if w < viewers % workers else 0)
        p = ctx.Process(
            target=viewer_process,
            args=(server.url, server.session_id, share, joined, received, stop_flag, out),
        )
        p.start()
        procs.append(p)
    deadline = time.monotonic() + 120
    while joined.value < viewers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {joined.value}/{viewers} viewers joined")
        time.sleep(0.2)
    print(f"  {server.name}: {viewers} viewers joined", flush=True)
    time.sleep(1.0)  # let join-time presence updates settle
    server_proc = psutil.Process(server.proc.pid)
    generator = [psutil.Process(p.pid) for p in procs]

    def generator_cpu() -> float:
        return sum(sum(g.cpu_times()[:2]) for g in generator)

    windows = []
    for step, rate in enumerate(rates):
        before_cpu = sum(server_proc.cpu_times()[:2])
        before_gen = generator_cpu()
        before_received = received.value
        started = time.monotonic()
        sent = asyncio.run(_send(server, rate, seconds, step))
        expected = before_received + sent * viewers
        drain_deadline = time.monotonic() + 10
        last, still = received.value, time.monotonic()
        while received.value < expected and time.monotonic() < drain_deadline:
            time.sleep(0.1)
            if received.value != last:
                last, still = received.value, time.monotonic()
            elif time.monotonic() - still > 3:
                break
        elapsed = time.monotonic() - started
        cpu = sum(server_proc.cpu_times()[:2]) - before_cpu
        gen = generator_cpu() - before_gen
        windows.append((step, rate, sent, received.value - before_received, elapsed, cpu, gen))
    stop_flag.set()
    stats: dict[int, list[float]] = {}
    for _ in procs:
        for step, delays in out.get(timeout=60).items():
            stats.setdefault(step, []).extend(delays)
    for p in procs:
        p.join(timeout=30)
    rows = []
    for step, rate, sent, delivered, elapsed, cpu, gen in windows:
        delays = np.array(stats.get(step, [float("nan")])) * 1000
        rows.append(
            Row(
                server.name,
                rate,
                sent,
                delivered / elapsed,
                float(np.percentile(delays, 50)),
                float(np.percentile(delays, 99)),
                sent * viewers - delivered,
                cpu / max(1, delivered) * 1e6,
                cpu / elapsed,
                gen / elapsed,
            )
        )
    return rows


def stop(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rates", default="25,50,100")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--batch-ms", type=int, default=100)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    print(
        f"chat fan-out: {args.viewers} viewers in {args.workers} processes, rates {rates} "
        f"msg/s, {args.seconds:g} s each, Vitrine batch {args.batch_ms} ms, "
        f"{os.cpu_count()} CPUs (logs: {LOG})",
        flush=True,
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        starts = (
            start_baseline,
            lambda: start_baseline(args.batch_ms),
            lambda: start_vitrine(Path(tmp), args.batch_ms),
        )
        for start in starts:
            server = start()
            try:
                rows += run_server(server, args.viewers, args.workers, rates, args.seconds)
            finally:
                stop(server)
    print()
    print(
        "| server | msg/s sent | delivered/s | p50 ms | p99 ms | lost | server CPU µs/delivery "
        "| server cores | generator cores |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        p99 = "saturated" if r.saturated else f"{r.p99_ms:.0f}"
        print(
            f"| {r.server} | {r.rate} | {r.delivered_per_s:,.0f} | {r.p50_ms:.0f} | "
            f"{p99} | {r.lost} | {r.cpu_us_per_delivery:.1f} | {r.server_cores:.2f} | "
            f"{r.generator_cores:.2f} |"
        )
    print()
    batched = {r.rate: r for r in rows if r.server.startswith("bare, batched")}
    for r in rows:
        if r.server.startswith("Vitrine") and r.rate in batched:
            b = batched[r.rate]
            p99 = (
                f"{r.p99_ms / b.p99_ms:.2f}"
                if not (r.saturated or b.saturated)
                else "not stated (saturated)"
            )
            print(
                f"at {r.rate} msg/s, against the batched baseline: CPU per delivery "
                f"{r.cpu_us_per_delivery / b.cpu_us_per_delivery:.2f}, p99 {p99}"
            )


if __name__ == "__main__":
    main()
