"""deploy/nginx.conf, as shipped, run by Debian's nginx on free ports of this machine.

The config is the one an operator installs; only what differs between sites and this
test is replaced (ports, certificate, install and data folders), each by the exact text
it has in the file: if the file changes, the test says which entry to update instead of
testing something else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import ROOT, free_port

SHIPPED = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (openssl, from scripts/ensure-deploy-tools)."""
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Site:
    folder: Path
    web_ports: tuple[int, int] = (0, 0)
    relay_ports: tuple[int, int] = (0, 0)
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.uploads = self.folder / "uploads"
        self.logs = self.folder / "logs"
        self.acme = self.folder / "acme"
        for path in (self.uploads, self.logs, self.acme, self.folder / "tls"):
            path.mkdir(parents=True, exist_ok=True)
        self.cert, self.key = self_signed(self.folder / "tls")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def replacements(self) -> dict[str, str]:
        web, relay = self.web_ports, self.relay_ports
        return {
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen [::]:80;": f"listen [::1]:{self.http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl http2;",
            "listen [::]:443 ssl http2;": f"listen [::1]:{self.https_port} ssl http2;",
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{web[0]};",
            "server 127.0.0.1:8001;": f"server 127.0.0.1:{web[1]};",
            "server 127.0.0.1:8100;": f"server 127.0.0.1:{relay[0]};",
            "server 127.0.0.1:8101;": f"server 127.0.0.1:{relay[1]};",
            "/etc/letsencrypt/live/live.example.com/fullchain.pem": str(self.cert),
            "/etc/letsencrypt/live/live.example.com/privkey.pem": str(self.key),
            "/var/lib/vitrine/uploads/": f"{self.uploads}/",
            "/opt/vitrine/": f"{ROOT}/",
            "/var/log/nginx/": f"{self.logs}/",
            "/var/www/letsencrypt": str(self.acme),
            "/var/cache/vitrine-hls": str(self.folder / "hls-cache"),
        }

    def render(self) -> Path:
        text = SHIPPED.read_text()
        for old, new in self.replacements().items():
            assert old in text, f"deploy/nginx.conf no longer says {old!r}: update {__file__}"
            text = text.replace(old, new)
        site = self.folder / "vitrine.conf"
        site.write_text(text)
        # What Debian's /etc/nginx/nginx.conf does around conf.d/*.conf, in this folder.
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the test's tmp dirs
        temp = "".join(
            f"    {kind}_temp_path {self.folder / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        main = self.folder / "nginx.conf"
        main.write_text(
            f"{user}worker_processes 1;\npid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.logs / 'error.log'} notice;\n"
            "events { worker_connections 512; }\n"
            "http {\n    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            f"    access_log {self.logs / 'access.log'};\n{temp}    include {site};\n}}\n"
        )
        return main

    def command(self, *extra: str) -> list[str]:
        main = self.render()
        return [
            NGINX,
            "-e",
            str(self.logs / "error.log"),
            "-p",
            str(self.folder),
            "-c",
            str(main),
            *extra,
        ]

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)

    def start(self) -> Site:
        self.proc = subprocess.Popen(
            self.command("-g", "daemon off;"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
