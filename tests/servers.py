"""Real server processes for tests and benchmarks: a web node (any async mode, or gunicorn)
and a media relay."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import requests

from sessions.db import create_all, make_engine

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)  # polling a port: there is no event to await
    raise TimeoutError(f"{url} did not answer in {timeout}s")


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Until something accepts TCP connections on 127.0.0.1:port (or the process exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)  # polling a port: there is no event to await
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


class WebServer:
    """A web node in a subprocess, on a fresh port, against `database_url`."""

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
        ready_timeout: float = 30.0,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.ready_timeout = ready_timeout  # raise it where the test's machine is shared
        self.env = {
            **os.environ,
            "VITRINE_ENV": "testing",
            "SECRET_KEY": "test-secret-key",
            "MEDIA_GRANT_SECRET": "test-media-secret",
            "DATABASE_URL": database_url,
            "SOCKETIO_ASYNC_MODE": async_mode,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "VITRINE_VAR_DIR": str(tmp_path / "var"),
            "PUBLIC_URL": self.url,
            "SESSION_COOKIE_SECURE": "0",
            # Load tests make many guests from 127.0.0.1; the limit has its own test.
            "GUEST_RATE_LIMIT": "100000 per hour",
            **({"REDIS_URL": redis_url} if redis_url else {}),
            **(env or {}),
        }
        if gunicorn:
            # As deployed: gunicorn's worker decides, the app must not be told the mode.
            self.env.pop("SOCKETIO_ASYNC_MODE")
            self.cmd = [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "wsgi:app",
            ]
        else:
            self.cmd = [
                sys.executable,
                "-m",
                "web.serve",
                "--async-mode",
                async_mode,
                "--port",
                str(self.port),
            ]
        self.create_schema = create_schema
        self.log = log  # the node's stdout and stderr (None: this process's)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WebServer:
        self.spawn()
        try:
            return self.wait_ready(self.ready_timeout)
        except BaseException:
            self.stop()  # a node too slow to come up must not outlive the test
            raise

    def spawn(self) -> WebServer:
        """Start the process without waiting for it (start several, then wait for each)."""
        if self.create_schema:
            engine = make_engine(self.database_url)
            create_all(engine)
            engine.dispose()
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log
        )
        return self

    def wait_ready(self, timeout: float = 30.0) -> WebServer:
        assert self.proc is not None
        wait_http(f"{self.url}/api/brands", self.proc, timeout)
        return self

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RelayServer:
    """A media relay (`python -m streaming`) in a subprocess, on a fresh port."""

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
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "MEDIA_GRANT_SECRET": grant_secret,
            "RELAY_MEDIA_DIR": str(media_dir),
            "RELAY_INTERNAL_TOKEN": internal_token,
            **(env or {}),
        }
        self.cmd = [sys.executable, "-m", "streaming", "--host", "127.0.0.1"]
        self.cmd += ["--port", str(self.port)]
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> RelayServer:
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log
        )
        return self

    def wait_ready(self, timeout: float = 30.0) -> RelayServer:
        assert self.proc is not None
        wait_http(f"{self.url}/healthz", self.proc, timeout)
        return self

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> RelayServer:
        return self.spawn().wait_ready()

    def __exit__(self, *_: object) -> None:
        self.stop()
