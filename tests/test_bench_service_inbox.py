"""bench/service_inbox.py runs end to end with tiny numbers, so that it cannot rot.

The figures themselves are the benchmark's (docs/service.md, "Measured"); here only
that every message reaches the holding associate's screen on both servers.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import POSTGRES_URL
from tests.servers import ROOT


@pytest.mark.slow
@pytest.mark.usefixtures("database_url")  # on the configured database: both passes
@pytest.mark.timeout(400)  # two servers start, 6 clients sign in: a minute on a busy machine
def test_service_inbox_bench_runs() -> None:
    cmd = [
        sys.executable,
        str(ROOT / "bench/service_inbox.py"),
        *("--threads", "4", "--associates", "2", "--rate", "4", "--seconds", "2"),
        *("--warmup", "0.5"),
        *(("--database-url", POSTGRES_URL) if POSTGRES_URL else ()),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=380)
    assert done.returncode == 0, done.stdout + done.stderr  # 1: a message lost or refused
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[1:]] == ["| bare Flask-SocketIO", "| Vitrine node"]
    for row in rows[1:]:
        sent, lost, errors = row.split(" | ")[1:4]
        assert (sent, lost, errors) == ("8", "0", "0"), row
    assert "Vitrine/baseline: p50" in done.stdout
