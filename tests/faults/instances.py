"""A PostgreSQL or a Redis of the test's own, from the machine's Debian packages, on a free
port with a temporary data folder: the fault tests stop and start it. The machine's shared
instances (5432, 6379) are never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.servers import free_port, wait_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as its own system user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PostgresInstance:
    def __init__(self) -> None:
        # Not under pytest's tmp folder: that one is private to root, and the server runs
        # as postgres when the tests run as root.
        self.folder = Path(tempfile.mkdtemp(prefix="vitrine-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.proc: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                 "--auth=trust", "--no-sync", "-E", "UTF8"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def start(self) -> PostgresInstance:
        self.proc = subprocess.Popen(
            _as_postgres(
                [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-k", str(self.folder), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port, self.proc)
        self._wait_accepting()
        return self

    def _wait_accepting(self, timeout: float = 60.0) -> None:
        """The port opens before recovery ends ("the database system is starting up"):
        ready when pg_isready says it accepts connections (nothing to await but asking)."""
        deadline = time.monotonic() + timeout
        ask = [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        while subprocess.run(ask, check=False).returncode != 0:
            assert self.proc is not None and self.proc.poll() is None, "PostgreSQL exited"
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL on {self.port} not accepting connections")
            time.sleep(0.1)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open connections are closed, as in a restart."""
        if self.proc is None or self.proc.poll() is not None:
            return
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "stop", "-m", "fast", "-w"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.proc.wait(timeout=30)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisInstance:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisInstance:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.kill()  # gone at once, as when its machine fails
        self.proc.wait()
