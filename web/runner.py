"""`vitrine run`: one command starts the web node, the media relay and the demo camera."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from sqlmodel import Session

from sessions.db import make_engine


class Supervisor:
    def __init__(
        self, root: Path, config: dict[str, Any], *, host: str, port: int, relay_port: int
    ) -> None:
        self.root = root
        self.config = config
        self.host = host
        self.port = port
        self.relay_port = relay_port
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        relay_url = os.environ.get("RELAY_URL") or f"http://{host}:{relay_port}"
        self.env = {
            **os.environ,
            "VITRINE_ENV": config["VITRINE_ENV"],
            "SECRET_KEY": config["SECRET_KEY"],
            "MEDIA_GRANT_SECRET": config["MEDIA_GRANT_SECRET"],
            # The web node and the relay share it: the relay's internal routes.
            "RELAY_INTERNAL_TOKEN": config["RELAY_INTERNAL_TOKEN"],
            "DATABASE_URL": config["DATABASE_URL"],
            "RELAY_URL": relay_url,
            "RELAY_INTERNAL_URL": f"http://127.0.0.1:{relay_port}",
            "PUBLIC_URL": os.environ.get("PUBLIC_URL", f"http://{host}:{port}"),
            "RELAY_MEDIA_DIR": str(Path(config["VAR_DIR"]) / "media"),
        }
        # The pages call the relay from the browser: allow exactly the site's origin.
        self.env.setdefault("RELAY_ALLOWED_ORIGINS", self.env["PUBLIC_URL"])

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, cwd=self.root, env=self.env, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def start(self, *, camera: bool) -> None:
        py = sys.executable
        self._spawn(
            "relay", [py, "-m", "streaming", "--host", "127.0.0.1", "--port", str(self.relay_port)]
        )
        self._spawn(
            "web",
            [
                py,
                "-m",
                "gunicorn",
                "-c",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"{self.host}:{self.port}",
                "wsgi:app",
            ],
        )
        self._wait_ready(f"http://127.0.0.1:{self.relay_port}/healthz", "relay")
        self._wait_ready(f"http://{self.host}:{self.port}/api/brands", "web")
        if camera:
            self._start_camera()
        print(
            f"\n  Vitrine is running: {self.env['PUBLIC_URL']}\n"
            f"  Demo brand:        {self.env['PUBLIC_URL']}/b/maison-aurele\n"
            f"  Staff sign-in:     {self.env['PUBLIC_URL']}/login\n"
            "  Press Ctrl-C to stop.\n",
            flush=True,
        )

    def _start_camera(self) -> None:
        from sessions.demo import demo_live_room

        with Session(make_engine(self.config["DATABASE_URL"])) as db:
            room = demo_live_room(db)
        if room is None:
            return
        self._spawn(
            "camera",
            [
                sys.executable,
                "-m",
                "streaming.synthetic",
                "--relay",
                f"http://127.0.0.1:{self.relay_port}",
                "--room",
                room,
                # The grant secret travels in the environment (self.env), not in argv.
                # The demo room is a show: public and recorded (sessions.access.media_claims).
                "--public",
                "--record",
            ],
        )

    def _wait_ready(self, url: str, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc_name, proc in self.procs:
                if proc.poll() is not None:
                    raise SystemExit(f"{proc_name} exited with code {proc.returncode}")
            try:
                requests.get(url, timeout=2)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.25)
        raise SystemExit(f"{name} did not start within {timeout}s")

    def wait(self) -> None:
        while self.procs:
            for index, (name, proc) in enumerate(self.procs):
                if proc.poll() is None:
                    continue
                if name == "camera":  # the demo's picture: worth restarting, not stopping for
                    print(
                        f"demo camera stopped (code {proc.returncode}); restarting it.", flush=True
                    )
                    self.procs.pop(index)
                    self._start_camera()
                    break
                print(f"{name} stopped (code {proc.returncode}); stopping everything.", flush=True)
                return
            time.sleep(0.5)

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()
