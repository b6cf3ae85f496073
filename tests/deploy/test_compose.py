"""deploy/compose.yaml is wired the way deploy/nginx.conf and the app expect.

No Docker engine runs on the test machines, so the file is read, not run: every address
nginx proxies to is a process the file starts there, every path nginx serves from is
mounted into it, and the web nodes and relays reach each other and the databases where
the file says they listen.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.servers import ROOT

DEPLOY = ROOT / "deploy"
NGINX = (DEPLOY / "nginx.conf").read_text()


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return compose["services"]


def upstream(name: str) -> list[str]:
    block = re.search(rf"upstream {name} \{{(.*?)\}}", NGINX, re.S)
    assert block, f"deploy/nginx.conf has no upstream {name}"
    return re.findall(r"^\s*server (\S+);", block.group(1), re.M)


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command", [])
    return cmd if isinstance(cmd, list) else cmd.split()


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source, for "source:target[:ro]" volumes."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        found[target.rstrip("/")] = source
    return found


def nginx_path(directive: str, location: str) -> str:
    match = re.search(rf"location {re.escape(location)} \{{[^}}]*?{directive} (\S+);", NGINX)
    assert match, f"no {directive} in location {location}"
    return match.group(1).rstrip("/")


def test_nginx_reaches_every_web_node_the_file_starts(services: dict[str, Any]) -> None:
    binds = sorted(
        s["environment"]["WEB_BIND"] for s in services.values() if "gunicorn" in command(s)
    )
    assert binds == sorted(upstream("vitrine_web")) and len(binds) == 2


def test_nginx_reaches_every_relay_and_the_web_nodes_reach_the_first(
    services: dict[str, Any],
) -> None:
    relays = {}
    for service in services.values():
        cmd = command(service)
        if cmd[:3] == ["python", "-m", "streaming"]:
            relays[f"{cmd[cmd.index('--host') + 1]}:{cmd[cmd.index('--port') + 1]}"] = service
    assert sorted(relays) == sorted(upstream("vitrine_relay_1") + upstream("vitrine_relay_2"))
    [first] = upstream("vitrine_relay_1")
    for name in ("web1", "web2"):
        assert urlsplit(services[name]["environment"]["RELAY_INTERNAL_URL"]).netloc == first


def test_everything_nginx_proxies_to_shares_its_network(services: dict[str, Any]) -> None:
    """The upstreams are 127.0.0.1: nginx, web nodes and relays are on the host network."""
    for name in ("nginx", "web1", "web2", "relay1", "relay2", "coturn"):
        assert services[name]["network_mode"] == "host", name


def test_the_databases_are_where_the_nodes_look(services: dict[str, Any]) -> None:
    env = services["web1"]["environment"]
    db, redis = urlsplit(env["DATABASE_URL"]), urlsplit(env["REDIS_URL"])
    assert f"127.0.0.1:{db.port}:5432" in services["postgres"]["ports"]
    assert f"127.0.0.1:{redis.port}:6379" in services["redis"]["ports"]
    # Published on loopback only: never on the host's public address.
    for name in ("postgres", "redis"):
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"])


def test_nginx_has_its_config_certificates_static_files_and_uploads(
    services: dict[str, Any],
) -> None:
    nginx = mounts(services["nginx"])
    assert nginx["/etc/nginx/conf.d/default.conf"] == "./nginx.conf"
    certificate = re.search(r"ssl_certificate (\S+);", NGINX)
    assert certificate and certificate.group(1).startswith("/etc/letsencrypt/")
    assert nginx["/etc/letsencrypt"] == "/etc/letsencrypt"
    # /static/: the volume the `static` service fills from the image.
    static = nginx_path("alias", "/static/")
    assert nginx[static] == "static"
    assert mounts(services["static"])["/srv/static"] == "static"
    # /uploads/: the web nodes' UPLOAD_DIR volume.
    uploads = nginx_path("alias", "/uploads/")
    assert nginx[uploads] == "uploads"
    for name in ("web1", "web2"):
        assert services[name]["environment"]["UPLOAD_DIR"] == uploads
        assert mounts(services[name])[uploads] == "uploads"
    # No media volume in nginx: /media/ goes to the relays, which check each file's reader.
    assert "media" not in nginx.values()
    assert nginx[nginx_path("root", "/.well-known/acme-challenge/")] == "acme"


def test_migrations_run_once_before_the_web_nodes(services: dict[str, Any]) -> None:
    assert command(services["migrate"]) == ["vitrine", "migrate"]
    for name in ("web1", "web2"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_coturn_runs_the_shipped_config(services: dict[str, Any]) -> None:
    coturn = services["coturn"]
    assert mounts(coturn)["/etc/coturn/turnserver.conf"] == "./turnserver.conf"
    assert command(coturn)[-1] == "/etc/coturn/turnserver.conf"


def test_the_env_file_is_the_example_s(services: dict[str, Any]) -> None:
    assert services["web1"]["env_file"] == "vitrine.env"
    assert Path(DEPLOY / "vitrine.env.example").exists()
    assert "deploy/vitrine.env" in (ROOT / ".gitignore").read_text()  # secrets stay out
