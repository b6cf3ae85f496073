"""deploy/turnserver.conf, as shipped, run by Debian's coturn on free ports of 127.0.0.1:
only the listening and relay addresses, ports, certificate and files differ (in flags,
which win over the file). Used by tests/deploy/test_coturn.py and the relay-only browser
test (tests/media/test_turn_browser.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.deploy.nginx import self_signed
from tests.servers import ROOT, free_port, wait_port

CONFIG = ROOT / "deploy" / "turnserver.conf"
TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


def configured(name: str) -> str:
    """The value of `name=...` in the shipped config."""
    for line in CONFIG.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == name:
            return value.strip()
    raise AssertionError(f"deploy/turnserver.conf has no {name}=")


@dataclass
class TurnServer:
    folder: Path
    allowed_peers: tuple[str, ...] = ()  # the media relay's addresses, as an operator would
    extra: tuple[str, ...] = ()  # more flags (--verbose logs each session's user)

    def __post_init__(self) -> None:
        self.cert, self.key = self_signed(self.folder)
        self.port, self.tls_port = free_port(), free_port()
        low = 40000 + self.port % 20000  # a band of UDP ports; coturn skips any in use
        self.relay_ports = range(low, low + 20)
        self.log = self.folder / "turn.log"
        self.secret = configured("static-auth-secret")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def start(self) -> TurnServer:
        cmd = [
            TURNSERVER, "-c", str(CONFIG),
            "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
            "--listening-port", str(self.port), "--tls-listening-port", str(self.tls_port),
            "--min-port", str(self.relay_ports.start),
            "--max-port", str(self.relay_ports.stop - 1),
            "--cert", str(self.cert), "--pkey", str(self.key),
            "--pidfile", str(self.folder / "turn.pid"), "--userdb", str(self.folder / "turndb"),
            "--log-file", str(self.log), "--no-stdout-log",
        ]  # fmt: skip
        cmd += list(self.extra)
        for peer in self.allowed_peers:
            cmd += ["--allowed-peer-ip", peer]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        wait_port(self.tls_port, self.proc)
        return self

    def log_text(self) -> str:
        """coturn names its log file itself (it adds the date): every file it wrote."""
        return "".join(p.read_text(errors="replace") for p in self.folder.glob("turn*.log"))

    def wait_log(self, text: str, timeout: float = 20.0) -> str:
        """Until coturn's log (with --verbose: a line per session) holds `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log_text()
            if text in log:
                return log
            time.sleep(0.1)  # a file another process writes: no event to await
        raise AssertionError(f"coturn's log has no {text!r}: {self.log_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> TurnServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
