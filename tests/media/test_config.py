"""Relay configuration: the grant secret is required outside dev."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streaming.config import DEV_SECRET, ConfigError, RelayConfig

pytestmark = pytest.mark.media
TURN = "turn:turn.example:3478"


def test_secret_is_required_unless_dev() -> None:
    with pytest.raises(ConfigError):
        RelayConfig.from_env({})
    dev = RelayConfig.from_env({}, dev=True)
    assert dev.grant_secret == DEV_SECRET and dev.allowed_origins == ("*",)


def test_environment_is_read() -> None:
    config = RelayConfig.from_env(
        {
            "MEDIA_GRANT_SECRET": "s",
            "RELAY_PORT": "9001",
            "RELAY_ICE_SERVERS": json.dumps([{"urls": TURN, "username": "u", "credential": "c"}]),
            "RELAY_MEDIA_DIR": "/tmp/m",
            "RELAY_ALLOWED_ORIGINS": "https://shop.example, https://admin.example",
            "RELAY_MAX_VIEWERS": "10",
        }
    )
    assert config.port == 9001 and config.max_viewers == 10
    assert config.ice_servers[0]["urls"] == TURN
    assert config.media_dir == Path("/tmp/m")
    assert config.allowed_origins == ("https://shop.example", "https://admin.example")
    assert RelayConfig.from_env({"MEDIA_GRANT_SECRET": "s"}).ice_servers == []  # no public STUN
    with pytest.raises(ConfigError):
        RelayConfig.from_env({"MEDIA_GRANT_SECRET": "s", "RELAY_ICE_SERVERS": "stun:x"})


def test_process_refuses_to_start_without_a_secret() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MEDIA_GRANT_SECRET"}
    result = subprocess.run(
        [sys.executable, "-m", "streaming", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 2
    assert "MEDIA_GRANT_SECRET" in result.stderr
