"""bench/flash_sale.py and bench/hot_path.py run end to end with tiny numbers, so that they
cannot rot. The figures are the benchmarks' (docs/performance.md); here only that the
sale stays exact (the bench exits 1 when a race oversells or loses a tap)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import POSTGRES_URL
from tests.servers import ROOT

DATABASE = ("--postgres", POSTGRES_URL) if POSTGRES_URL else ("--no-postgres",)


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_flash_sale_bench_runs() -> None:
    cmd = [
        sys.executable,
        str(ROOT / "bench/flash_sale.py"),
        *("--buyers", "12", "--stock", "3", "--shoppers", "4", "--arrival-seconds", "0.2"),
        *DATABASE,
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=190)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| SQLite")]
    names = [row.split(" | ")[1] for row in rows]
    assert names == ["floor", "state GET", "HTTP add-to-bag", "Socket.IO add_to_bag", "show start"]


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_hot_path_bench_runs() -> None:
    cmd = [sys.executable, str(ROOT / "bench/hot_path.py"), "--requests", "3", "--no-postgres"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=190)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| add-to-bag sold out |" in done.stdout
