"""Service inbox: a shopper's message to the associate's screen, Vitrine vs a bare server.

    .venv/bin/python bench/service_inbox.py [--threads 200] [--associates 20] [--rate 20]
        [--seconds 30] [--server gunicorn|serve] [--database-url URL]

Against a real Vitrine web node in production mode (gunicorn's gevent worker as
deployed, or `--server serve`: `python -m web.serve`), on a fresh SQLite file in a
temporary directory, or on a fresh schema of the PostgreSQL of `--database-url`
(default: $DATABASE_URL when it is PostgreSQL). Seeded: a brand with `--associates`
associates, online; each signs in, opens the console's socket and sends its
`console_heartbeat` (every 30 s after, as the console does), so that each is
present. Then `--threads` shoppers each ask a question over the real API (their
thread is routed: offered to an associate, who accepts it over the API), so that
each associate holds threads/associates threads, and each shopper keeps their
own socket open, as the shopper's panel does.

Measured: the shoppers post at a steady `--rate` (messages/s over every thread,
open loop: a slow answer does not delay the next send) for `--seconds` through
`POST /api/threads/<id>/messages`; each message's `client_id` names it, and its
delay is from just before its POST to the `thread_message` event arriving on the
socket of the associate who holds the thread. Reported: p50/p95/p99/max of that
delay, the POST's own p50/p99, messages lost (sent, never on the holder's
screen: must be 0), errors (a POST not 201: must be 0), and the server's CPU
(the node's processes, psutil) as a share of one core and per message.

The load generator (this process: one asyncio loop) is measured over the same window:
its CPU as a share of one core, how long it waited for a CPU, its event loop's lag
(a 5 ms sleep's overshoot, sampled all along) and how late each POST left against its
schedule. A delay measured by a saturated generator is the generator's, not the
server's: when its CPU passes 85 % of a core or its loop lag's p99 passes 25 ms (a tenth
of the target), the row's p99 and max are not reported ("saturated") and the target is
not judged.

The baseline, measured first in the same run: the same clients on the bare
Flask-SocketIO server of bench/baseline_server.py under the same server and
worker, where each POST emits the event to the associate's room and the
shopper's room as it comes: no database, no access check. The ratio says what
Vitrine's stack (sign-in, the gate, the rate limit, storing the message, the
events) costs over the floor. The target is a p99 under 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
import socketio  # noqa: E402
from yarl import URL  # noqa: E402

from tests.servers import WebServer, free_port, wait_http  # noqa: E402

LOG = Path(tempfile.gettempdir()) / "service_inbox.log"
HEARTBEAT_SECONDS = 30  # as web/static/js/console-inbox.js sends it
TARGET_P99_MS = 250.0
# The generator is saturated past these: its own delays would be in the figures.
SATURATED_CPU_SHARE = 0.85
SATURATED_LAG_P99_MS = TARGET_P99_MS / 10
LAG_PROBE_SECONDS = 0.005


# --- the clients ---------------------------------------------------------------------


@dataclass
class Console:
    """One associate's console: signed in, its socket open."""

    associate_id: int
    http: aiohttp.ClientSession
    csrf: str = ""
    sio: socketio.AsyncClient | None = None
    holds: int = 0


@dataclass
class Shopper:
    """One shopper with an open thread held by `holder`, their own socket open."""

    index: int
    http: aiohttp.ClientSession
    csrf: str = ""
    thread_id: int = 0
    holder: int = 0
    sio: socketio.AsyncClient | None = None


@dataclass
class Probe:
    """The messages in flight: each one's send time, its holder, its arrival."""

    sent: dict[str, tuple[float, int]] = field(default_factory=dict)
    arrived: dict[str, float] = field(default_factory=dict)
    wrong: int = 0  # delivered to another associate's console than the holder's
    all_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    def reset(self) -> None:
        self.sent.clear()
        self.arrived.clear()
        self.wrong, self.expected = 0, 0
        self.all_arrived.clear()

    def on_screen(self, associate_id: int, data: dict[str, Any]) -> None:
        now = time.perf_counter()
        cid = (data.get("message") or {}).get("client_id")
        if cid not in self.sent or cid in self.arrived:
            return
        if self.sent[cid][1] != associate_id:
            self.wrong += 1
            return
        self.arrived[cid] = now
        if self.expected and len(self.arrived) >= self.expected:
            self.all_arrived.set()


@dataclass
class Offers:
    """The setup's first questions: when each one's offer reached a console."""

    at: dict[int, float] = field(default_factory=dict)
    events: dict[int, asyncio.Event] = field(default_factory=dict)
    delays: list[float] = field(default_factory=list)

    def arrived(self, data: dict[str, Any]) -> None:
        self.at.setdefault(data["thread_id"], time.perf_counter())
        self.events.setdefault(data["thread_id"], asyncio.Event()).set()

    async def wait(self, thread_id: int) -> float:
        event = self.events.setdefault(thread_id, asyncio.Event())
        await asyncio.wait_for(event.wait(), timeout=30)
        return self.at[thread_id]


def cookie_header(http: aiohttp.ClientSession, url: str) -> str:
    jar = http.cookie_jar.filter_cookies(URL(url))
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


async def csrf_of(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(f"{url}/login") as r:
        page = await r.text()
    return page.split('name="csrf-token" content="')[1].split('"')[0]


async def open_socket(
    url: str,
    *,
    cookie: str = "",
    auth: dict[str, Any] | None = None,
    on: dict[str, Callable[[dict[str, Any]], None]] | None = None,
) -> socketio.AsyncClient:
    """A Socket.IO client over WebSocket only; `on` maps event names to handlers."""
    sio = socketio.AsyncClient(reconnection=False)
    for name, handler in (on or {}).items():
        sio.on(name, handler)  # called in the loop, no task: the delay is the arrival's
    await sio.connect(
        url,
        headers={"Cookie": cookie} if cookie else {},
        auth=auth,
        transports=["websocket"],
        wait_timeout=30,
    )
    return sio


# --- the two servers ----------------------------------------------------------------------


@dataclass
class Target:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    consoles: list[Console]
    shoppers: list[Shopper]
    post: Callable[[Shopper, str, str], Awaitable[int]]
    stop: Callable[[], None]
    probe: Probe
    background: list[asyncio.Task[None]] = field(default_factory=list)
    offer_delays: list[float] = field(default_factory=list)  # setup: question to offer


def _gunicorn(app: str, port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        *extra,
        app,
    ]


def _stopper(proc: subprocess.Popen[bytes]) -> Callable[[], None]:
    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    return stop


async def baseline(
    probe: Probe,
    server: str,
    threads: int,
    associates: int,
    http_for: Callable[[], aiohttp.ClientSession],
) -> Target:
    port = free_port()
    if server == "gunicorn":
        cmd = _gunicorn("baseline_server:app", port, "--pythonpath", str(ROOT / "bench"))
    else:
        cmd = [sys.executable, str(ROOT / "bench/baseline_server.py"), "--port", str(port)]
    log = LOG.open("ab")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/health", proc)
    consoles = []
    for a in range(1, associates + 1):
        console = Console(a, http_for())
        console.sio = await open_socket(
            url,
            auth={"rooms": [f"associate:{a}"]},
            on={"thread_message": functools.partial(probe.on_screen, a)},
        )
        consoles.append(console)
    shoppers = []
    for k in range(threads):
        shopper = Shopper(k, http_for(), thread_id=k + 1, holder=k % associates + 1)
        shopper.sio = await open_socket(url, auth={"rooms": [f"shopper:{k}"]})
        consoles[shopper.holder - 1].holds += 1
        shoppers.append(shopper)
    counter = iter(range(1, 10**9))

    async def post(shopper: Shopper, client_id: str, body: str) -> int:
        message = {
            "id": next(counter),
            "thread_id": shopper.thread_id,
            "side": "shopper",
            "body": body,
            "client_id": client_id,
        }
        data = {"thread_id": shopper.thread_id, "message": message}
        rooms = [f"shopper:{shopper.index}", f"associate:{shopper.holder}"]
        payload = {"event": "thread_message", "rooms": rooms, "data": data}
        async with shopper.http.post(f"{url}/emit", json=payload) as r:
            await r.read()
            return r.status

    return Target("bare Flask-SocketIO", url, proc, consoles, shoppers, post, _stopper(proc), probe)


def seed(database_url: str, associates: int, threads: int) -> tuple[int, list[tuple[int, str]]]:
    """A brand, a store, `associates` online associates with room for their share."""
    from sqlmodel import Session

    from sessions.clock import utcnow
    from sessions.db import create_all, make_engine
    from sessions.models import AssociateStatus
    from sessions.passwords import use_fast_hashing_for_tests
    from tests.factories import Factory

    use_fast_hashing_for_tests()
    engine = make_engine(database_url)
    create_all(engine)
    people = []
    share = max(3, min(20, math.ceil(threads / associates)))  # the model's cap is 20
    with Session(engine, expire_on_commit=False) as db:
        factory = Factory(db)
        brand = factory.brand()
        store = factory.store(brand)
        for _ in range(associates):
            profile = factory.associate(brand, store)
            now = utcnow()
            profile.status, profile.status_changed_at = AssociateStatus.ONLINE, now
            profile.console_seen_at, profile.max_parallel_chats = now, share
            db.add(profile)
            db.commit()
            assert profile.id is not None
            people.append((profile.id, factory.user_of(profile).email))
        assert brand.id is not None
        brand_id = brand.id
    engine.dispose()
    return brand_id, people


async def _heartbeats(console: Console) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        assert console.sio is not None
        await console.sio.emit("console_heartbeat", {})


async def vitrine(
    probe: Probe,
    server: str,
    threads: int,
    associates: int,
    http_for: Callable[[], aiohttp.ClientSession],
    database_url: str,
    workdir: Path,
) -> Target:
    from tests.factories import Factory

    brand_id, people = seed(database_url, associates, threads)
    node = WebServer(
        database_url,
        workdir,
        gunicorn=server == "gunicorn",
        env={"VITRINE_ENV": "production"},
        create_schema=False,
        log=LOG.open("ab"),
    ).start()
    assert node.proc is not None
    url = node.url
    offers = Offers()
    consoles: dict[int, Console] = {}
    for associate_id, email in people:
        console = Console(associate_id, http_for())
        console.csrf = await csrf_of(console.http, url)
        form = {"email": email, "password": Factory.PASSWORD, "csrf_token": console.csrf}
        async with console.http.post(f"{url}/login", data=form, allow_redirects=False) as r:
            assert r.status in (302, 303), (r.status, await r.text())
        console.csrf = await csrf_of(console.http, url)  # signing in starts a new session
        console.sio = await open_socket(
            url,
            cookie=cookie_header(console.http, url),
            on={
                "thread_message": functools.partial(probe.on_screen, associate_id),
                "thread_offer": offers.arrived,
            },
        )
        ack = await console.sio.call("console_heartbeat", {}, timeout=30)
        assert ack.get("ok"), ack
        consoles[associate_id] = console
    share = math.ceil(threads / associates)
    shoppers = []
    for k in range(threads):
        shopper = Shopper(k, http_for())
        shopper.csrf = await csrf_of(shopper.http, url)
        body = {"body": f"Hello, question {k}", "client_id": f"ask-{k}"}
        headers = {"X-CSRFToken": shopper.csrf}
        asked_at = time.perf_counter()
        async with shopper.http.post(
            f"{url}/api/brands/{brand_id}/thread", json=body, headers=headers
        ) as r:
            asked = await r.json()
            assert r.status == 201, (r.status, asked)
        shopper.thread_id = asked["thread"]["id"]
        offered = asked["thread"]["offered_to"]
        if offered is not None:
            offers.delays.append(await offers.wait(shopper.thread_id) - asked_at)
        if offered is None or consoles[offered].holds >= share:  # routing's choice, if it fits
            offered = min(consoles.values(), key=lambda c: c.holds).associate_id
        holder = consoles[offered]
        async with holder.http.post(
            f"{url}/api/threads/{shopper.thread_id}/accept", headers={"X-CSRFToken": holder.csrf}
        ) as r:
            accepted = await r.json()
            assert r.status == 200, (r.status, accepted)
        holder.holds += 1
        shopper.holder = offered
        shopper.sio = await open_socket(url, cookie=cookie_header(shopper.http, url))
        shoppers.append(shopper)
    target = Target(
        "Vitrine node",
        url,
        node.proc,
        list(consoles.values()),
        shoppers,
        _vitrine_post(url),
        node.stop,
        probe,
    )
    target.offer_delays = offers.delays
    target.background = [asyncio.create_task(_heartbeats(c)) for c in consoles.values()]
    return target


def _vitrine_post(url: str) -> Callable[[Shopper, str, str], Awaitable[int]]:
    async def post(shopper: Shopper, client_id: str, body: str) -> int:
        async with shopper.http.post(
            f"{url}/api/threads/{shopper.thread_id}/messages",
            json={"body": body, "client_id": client_id},
            headers={"X-CSRFToken": shopper.csrf},
        ) as r:
            await r.read()
            return r.status

    return post


# --- one run ---------------------------------------------------------------------------


@dataclass
class Row:
    server: str
    sent: int
    errors: int
    lost: int
    wrong: int
    delays_ms: np.ndarray
    post_ms: np.ndarray
    cpu_share: float  # of one core, over the window
    cpu_ms_per_message: float
    cpu_wait_share: float  # runnable, waiting for a CPU the machine gave others
    holds: tuple[int, int]  # the fewest and most threads an associate holds
    offer_ms: np.ndarray  # the setup's first questions: POST to the offer on a console
    gen_cpu_share: float  # the load generator (this process), of one core
    gen_wait_share: float  # the generator runnable, waiting for a CPU
    gen_lag_ms: np.ndarray  # its event loop's lag, sampled over the window
    late_ms: np.ndarray  # how late each POST left against the open-loop schedule

    @property
    def saturated(self) -> bool:
        lag_p99 = float(np.percentile(self.gen_lag_ms, 99)) if len(self.gen_lag_ms) else 0.0
        return self.gen_cpu_share > SATURATED_CPU_SHARE or lag_p99 > SATURATED_LAG_P99_MS


def server_cpu(proc: subprocess.Popen[bytes]) -> tuple[float, float]:
    """Of the server and its children (gunicorn's worker): user + system seconds, and
    seconds spent runnable but waiting for a CPU (Linux schedstat; 0 elsewhere), which
    says how much of its time a busy machine took from it."""
    root = psutil.Process(proc.pid)
    return process_cpu([root, *root.children(recursive=True)])


def generator_cpu() -> tuple[float, float]:
    """The same for this process, the load generator (its own children excluded)."""
    return process_cpu([psutil.Process()])


def process_cpu(processes: list[psutil.Process]) -> tuple[float, float]:
    cpu, waited = 0.0, 0.0
    for p in processes:
        with contextlib.suppress(psutil.NoSuchProcess):  # a process just ending
            cpu += sum(p.cpu_times()[:2])
            for stat in Path(f"/proc/{p.pid}/task").glob("*/schedstat"):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    waited += int(stat.read_text().split()[1]) / 1e9
    return cpu, waited


async def drive(
    target: Target, probe: Probe, rate: float, seconds: float, tag: str
) -> tuple[int, int, list[float], list[float]]:
    """Post at `rate`, open loop; returns (sent, errors, POST times, how late each POST
    left against its schedule)."""
    total = max(1, int(rate * seconds))
    order = list(range(len(target.shoppers)))
    random.Random(tag).shuffle(order)
    post_times: list[float] = []
    late: list[float] = []
    errors = 0
    begin = time.perf_counter()

    async def one(n: int) -> None:
        nonlocal errors
        shopper = target.shoppers[order[n % len(order)]]
        cid = f"{tag}-{n}"
        start = time.perf_counter()
        late.append(start - (begin + n / rate))
        probe.sent[cid] = (start, shopper.holder)
        try:
            status = await target.post(shopper, cid, f"{tag} {n} sent {time.time():.6f}")
        except aiohttp.ClientError:
            status = 0
        post_times.append(time.perf_counter() - start)
        if status != 201:
            errors += 1
            probe.sent.pop(cid, None)

    tasks = []
    for n in range(total):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    return total, errors, post_times, late


async def _loop_lag(samples: list[float], stop: asyncio.Event) -> None:
    """The generator's event loop: how much later than asked a short sleep returns."""
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(LAG_PROBE_SECONDS)
        samples.append(max(0.0, time.perf_counter() - asked - LAG_PROBE_SECONDS))


async def measure(target: Target, rate: float, seconds: float, warmup: float) -> Row:
    probe = target.probe
    if warmup > 0:  # first requests of the path (imports, caches, pools) are not the figure
        await drive(target, probe, rate, warmup, "warm")  # (its figures are not kept)
        await asyncio.sleep(1.0)
    probe.reset()
    cpu_before, waited_before = server_cpu(target.proc)
    gen_before, gen_waited_before = generator_cpu()
    lags: list[float] = []
    stop_lag = asyncio.Event()
    lag_task = asyncio.create_task(_loop_lag(lags, stop_lag))
    started = time.perf_counter()
    sent, errors, post_times, late = await drive(target, probe, rate, seconds, "run")
    probe.expected = len(probe.sent)
    if len(probe.arrived) < probe.expected:
        with contextlib.suppress(TimeoutError):  # what has not come in 10 s is lost
            await asyncio.wait_for(probe.all_arrived.wait(), timeout=10)
    elapsed = time.perf_counter() - started
    cpu_after, waited_after = server_cpu(target.proc)
    gen_after, gen_waited_after = generator_cpu()
    stop_lag.set()
    await lag_task
    cpu, waited = cpu_after - cpu_before, waited_after - waited_before
    delays = [probe.arrived[c] - t for c, (t, _) in probe.sent.items() if c in probe.arrived]
    holds = [c.holds for c in target.consoles]
    return Row(
        target.name,
        sent,
        errors,
        probe.expected - len(probe.arrived),
        probe.wrong,
        np.array(delays or [math.nan]) * 1000,
        np.array(post_times or [math.nan]) * 1000,
        cpu / elapsed,
        cpu / max(1, sent) * 1000,
        waited / elapsed,
        (min(holds), max(holds)),
        np.array(target.offer_delays) * 1000,
        (gen_after - gen_before) / elapsed,
        (gen_waited_after - gen_waited_before) / elapsed,
        np.array(lags or [0.0]) * 1000,
        np.array(late or [0.0]) * 1000,
    )


async def close(target: Target) -> None:
    for task in target.background:
        task.cancel()
    clients = [c.sio for c in target.consoles] + [s.sio for s in target.shoppers]
    await asyncio.gather(*(c.disconnect() for c in clients if c is not None))
    target.stop()


async def run(args: argparse.Namespace, workdir: Path, database_url: str) -> list[Row]:
    rows = []
    connector = aiohttp.TCPConnector(limit=0)

    def http_for() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=connector, connector_owner=False, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )

    sessions: list[aiohttp.ClientSession] = []

    def tracked() -> aiohttp.ClientSession:
        sessions.append(http_for())
        return sessions[-1]

    try:
        for start in (
            lambda: baseline(Probe(), args.server, args.threads, args.associates, tracked),
            lambda: vitrine(
                Probe(), args.server, args.threads, args.associates, tracked, database_url, workdir
            ),
        ):
            target = await start()
            try:
                print(
                    f"  {target.name}: {len(target.consoles)} consoles and "
                    f"{len(target.shoppers)} shoppers connected",
                    flush=True,
                )
                await asyncio.sleep(1.0)  # the setup's own events settle
                rows.append(await measure(target, args.rate, args.seconds, args.warmup))
            finally:
                await close(target)
    finally:
        for s in sessions:
            await s.close()
        await connector.close()
    return rows


def postgres_schema(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema on the PostgreSQL of `url`, and how to drop it."""
    from sqlalchemy import text

    from sessions.db import make_engine, normalise_url

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in url else "?"
    return f"{normalise_url(url)}{sep}options=-csearch_path%3D{schema}", drop


def report(rows: list[Row], args: argparse.Namespace, database: str) -> bool:
    print()
    print(
        f"service inbox: {args.threads} open threads, {args.associates} associates, "
        f"{args.rate:g} msg/s for {args.seconds:g} s ({args.server}, {database}, "
        f"{os.cpu_count()} CPUs)"
    )
    print()
    print(
        "| server | sent | lost | errors | to screen p50 ms | p95 | p99 | max | "
        "POST p50 ms | POST p99 | server CPU % of a core | CPU ms/message | "
        "waiting for a CPU % | threads each | generator CPU % of a core | "
        "generator waiting for a CPU % | generator loop lag p99 ms | POST late p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        p50, p95, p99 = np.percentile(r.delays_ms, [50, 95, 99])
        q50, q99 = np.percentile(r.post_ms, [50, 99])
        tail = "saturated | saturated" if r.saturated else f"{p99:.1f} | {np.max(r.delays_ms):.1f}"
        print(
            f"| {r.server} | {r.sent} | {r.lost + r.wrong} | {r.errors} | {p50:.1f} | "
            f"{p95:.1f} | {tail} | {q50:.1f} | {q99:.1f} | "
            f"{r.cpu_share * 100:.0f} | {r.cpu_ms_per_message:.2f} | "
            f"{r.cpu_wait_share * 100:.0f} | "
            f"{r.holds[0]}-{r.holds[1]} | {r.gen_cpu_share * 100:.0f} | "
            f"{r.gen_wait_share * 100:.0f} | {np.percentile(r.gen_lag_ms, 99):.1f} | "
            f"{np.percentile(r.late_ms, 99):.1f} |"
        )
    print()
    base, node = rows[0], rows[-1]
    p50_ratio = float(np.percentile(node.delays_ms, 50) / np.percentile(base.delays_ms, 50))
    cpu_ratio = node.cpu_ms_per_message / max(1e-9, base.cpu_ms_per_message)
    if base.saturated or node.saturated:
        print(
            f"Vitrine/baseline: p50 {p50_ratio:.2f}, CPU per message {cpu_ratio:.2f}; p99 not "
            f"reported: the load generator was saturated (CPU over "
            f"{SATURATED_CPU_SHARE * 100:.0f} % of a core or loop lag p99 over "
            f"{SATURATED_LAG_P99_MS:.0f} ms), so the target is not judged"
        )
    else:
        p99_ratio = float(np.percentile(node.delays_ms, 99) / np.percentile(base.delays_ms, 99))
        node_p99 = float(np.percentile(node.delays_ms, 99))
        print(
            f"Vitrine/baseline: p50 {p50_ratio:.2f}, p99 {p99_ratio:.2f}, CPU per message "
            f"{cpu_ratio:.2f}; Vitrine p99 {node_p99:.0f} ms, target < {TARGET_P99_MS:.0f} ms: "
            f"{'met' if node_p99 < TARGET_P99_MS else 'MISSED'}"
        )
    if len(node.offer_ms):
        o50, o99 = np.percentile(node.offer_ms, [50, 99])
        print(
            f"Vitrine, setup: a first question to its offer on a console (one at a time, "
            f"0 to {args.threads - 1} threads open): p50 {o50:.0f} ms, p99 {o99:.0f} ms, "
            f"max {np.max(node.offer_ms):.0f} ms over {len(node.offer_ms)} questions"
        )
    print(f"load average before the run: {args.load_before}; logs: {LOG}")
    return all(r.lost == 0 and r.wrong == 0 and r.errors == 0 for r in rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=200, help="open threads (shoppers)")
    parser.add_argument("--associates", type=int, default=20)
    parser.add_argument("--rate", type=float, default=20, help="messages/s over every thread")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=2, help="seconds sent, not counted")
    parser.add_argument("--server", choices=["gunicorn", "serve"], default="gunicorn")
    default_db = os.environ.get("DATABASE_URL", "")
    parser.add_argument(
        "--database-url",
        default=default_db if default_db.startswith("postgres") else "",
        help="a PostgreSQL to make a fresh schema in (default: SQLite in a temporary dir)",
    )
    args = parser.parse_args(argv)
    args.load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"service inbox bench (logs: {LOG})", flush=True)
    drop: Callable[[], None] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.database_url:
            database_url, drop = postgres_schema(args.database_url)
            database = "PostgreSQL"
        else:
            database_url, database = f"sqlite:///{workdir / 'inbox.db'}", "SQLite"
        try:
            rows = asyncio.run(run(args, workdir, database_url))
        finally:
            if drop is not None:
                drop()
    sys.exit(0 if report(rows, args, database) else 1)


if __name__ == "__main__":
    main()
