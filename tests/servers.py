"""Real server processes for tests and benchmarks: a web node (any async mode, or gunicorn)
and a media relay.

Both start the same way (`ServerProcess`): a fresh port, the process, then a wait until it
answers. A server that dies or stays silent is killed before the error is raised, and one
that lost its port to another process in the meantime (tests run in parallel, beside other
runs) starts again on a new one.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import requests

from tests.schema import install_schema

ROOT = Path(__file__).resolve().parent.parent
# Importing the app takes seconds, and a minute on two cores shared by several test runs:
# generous, since a server that answers sooner costs nothing more.
START_TIMEOUT = 90.0
START_ATTEMPTS = 3  # a port taken between free_port() and the server's bind: try another


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_taken(port: int) -> bool:
    """Whether something else holds 127.0.0.1:port now."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def stop_process(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 10
) -> None:
    """Terminate, and kill if it does not exit within `timeout`."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ServerExited(RuntimeError):
    """The server process ended before it answered."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode


def _await_ready(
    probe: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float, what: str
) -> None:
    """Poll `probe` until it is true; if the process exits first or the time runs out, the
    process is stopped (killed if need be) and the error raised."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise ServerExited(f"{what}: server exited with {proc.returncode}", proc.returncode)
        if probe():
            return
        if time.monotonic() > deadline:
            stop_process(proc, timeout=5)
            raise TimeoutError(f"{what}: no answer in {timeout}s")
        time.sleep(0.05)  # polling a port: there is no event to await


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = START_TIMEOUT) -> None:
    """Until `url` answers over HTTP (any status); the process is killed if it never does."""

    def answers() -> bool:
        try:
            requests.get(url, timeout=2)
            return True
        except (requests.ConnectionError, requests.Timeout):
            return False

    _await_ready(answers, proc, timeout, url)


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = START_TIMEOUT) -> None:
    """Until something accepts TCP connections on 127.0.0.1:port; the process is killed if
    nothing does."""

    def accepts() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    _await_ready(accepts, proc, timeout, f"port {port}")


class ServerProcess:
    """A server in a subprocess on a fresh port, ready once `ready_path` answers."""

    ready_path = "/"

    def __init__(self, log: IO[bytes] | None = None) -> None:
        self.log = log  # the server's stdout and stderr (None: this process's)
        self.proc: subprocess.Popen[bytes] | None = None
        self._use_port(free_port())

    def _use_port(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        raise NotImplementedError

    def spawn(self) -> Self:
        """Start the process without waiting for it (start several, then wait for each)."""
        self.proc = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.environment(), stdout=self.log, stderr=self.log
        )
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> Self:
        for attempt in range(1, START_ATTEMPTS + 1):
            assert self.proc is not None
            try:
                wait_http(f"{self.url}{self.ready_path}", self.proc, timeout)
                return self
            except ServerExited:
                # Someone else bound the port first: not this server's fault.
                if attempt == START_ATTEMPTS or not port_taken(self.port):
                    raise
                self._use_port(free_port())
                self.spawn()
        raise AssertionError("unreachable")

    def start(self) -> Self:
        return self.spawn().wait_ready()

    def __enter__(self) -> Self:
        return self.start()

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def namespace_of(database_url: str) -> str:
    """A name for what one test's nodes share in Redis (channel, key prefix): the nodes
    of a test share its database, and no two tests (or parallel runs) share one."""
    return "test-" + hashlib.sha1(database_url.encode()).hexdigest()[:12]


class WebServer(ServerProcess):
    """A web node in a subprocess, on a fresh port, against `database_url`."""

    ready_path = "/api/brands"

    def __init__(
        self,
        database_url: str,
        tmp_path: Path,
        *,
        async_mode: str = "gevent",
        gunicorn: bool = False,
        redis_url: str | None = None,
        env: dict[str, str] | None = None,
        create_schema: bool = True,
        log: IO[bytes] | None = None,
        ready_timeout: float = START_TIMEOUT,
    ) -> None:
        super().__init__(log)
        self.database_url = database_url
        self.ready_timeout = ready_timeout  # raise it where the test's machine is shared
        self.tmp_path = tmp_path
        self.async_mode = async_mode
        self.gunicorn = gunicorn
        self.redis_url = redis_url
        self.extra_env = env or {}
        self.create_schema = create_schema

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "VITRINE_ENV": "testing",
            "SECRET_KEY": "test-secret-key",
            "MEDIA_GRANT_SECRET": "test-media-secret",
            "DATABASE_URL": self.database_url,
            "SOCKETIO_ASYNC_MODE": self.async_mode,
            "UPLOAD_DIR": str(self.tmp_path / "uploads"),
            "VITRINE_VAR_DIR": str(self.tmp_path / "var"),
            "PUBLIC_URL": self.url,
            "SESSION_COOKIE_SECURE": "0",
            # Load tests make many guests from 127.0.0.1; the limit has its own test.
            "GUEST_RATE_LIMIT": "100000 per hour",
            # What the nodes of one test share in Redis, apart from every other test's.
            "SOCKETIO_CHANNEL": namespace_of(self.database_url),
            "RATE_LIMIT_PREFIX": f"{namespace_of(self.database_url)}-limits",
            **({"REDIS_URL": self.redis_url} if self.redis_url else {}),
            **self.extra_env,
        }
        if self.gunicorn:
            # As deployed: gunicorn's worker decides, the app must not be told the mode.
            env.pop("SOCKETIO_ASYNC_MODE")
        return env

    def command(self) -> list[str]:
        if self.gunicorn:
            return [
                sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                "--bind", f"127.0.0.1:{self.port}", "wsgi:app",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "web.serve",
            "--async-mode", self.async_mode, "--port", str(self.port),
        ]  # fmt: skip

    def start(self) -> Self:
        return self.spawn().wait_ready(self.ready_timeout)

    def spawn(self) -> Self:
        if self.create_schema:
            install_schema(self.database_url)
            self.create_schema = False  # once, not again on a retry
        return super().spawn()


class RelayServer(ServerProcess):
    """A media relay (`python -m streaming`) in a subprocess, on a fresh port."""

    ready_path = "/healthz"

    def __init__(
        self,
        media_dir: Path,
        *,
        grant_secret: str = "test-media-secret",
        internal_token: str = "",
        env: dict[str, str] | None = None,
        log: IO[bytes] | None = None,
        port: int | None = None,  # a restarted relay comes back on its port
    ) -> None:
        super().__init__(log)
        if port is not None:
            self._use_port(port)
        self.media_dir = media_dir
        self.grant_secret = grant_secret
        self.internal_token = internal_token
        self.extra_env = env or {}

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "MEDIA_GRANT_SECRET": self.grant_secret,
            "RELAY_MEDIA_DIR": str(self.media_dir),
            "RELAY_INTERNAL_TOKEN": self.internal_token,
            **self.extra_env,
        }

    def command(self) -> list[str]:
        return [sys.executable, "-m", "streaming", "--host", "127.0.0.1", "--port", str(self.port)]
