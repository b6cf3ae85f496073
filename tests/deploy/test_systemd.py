"""deploy/systemd, checked by `systemd-analyze verify` (Debian's systemd).

verify loads each unit as systemd would and checks its directives and that each command
exists and is executable. The units say /opt/vitrine (and /opt/vitrine/.venv); here that
is this checkout and the virtualenv running the tests, so the commands are real ones.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT

UNITS = ROOT / "deploy" / "systemd"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
# Instances as docs/deploy.md starts them: web nodes and relays by port.
INSTANCES = [
    "vitrine-web@8000.service",
    "vitrine-web@8001.service",
    "vitrine-relay@8100.service",
    "vitrine-relay@8101.service",
    "vitrine-migrate.service",
    "vitrine-reminders.service",
    "vitrine.target",
]


def installed(folder: Path) -> Path:
    for unit in UNITS.iterdir():
        text = unit.read_text()
        text = text.replace("/opt/vitrine/.venv", sys.prefix).replace("/opt/vitrine", str(ROOT))
        (folder / unit.name).write_text(text)
    return folder


def test_the_units_are_the_documented_ones() -> None:
    assert sorted(p.name for p in UNITS.iterdir()) == sorted(
        {re.sub(r"@\d+", "@", name) for name in INSTANCES}
    )


@pytest.mark.parametrize("unit", INSTANCES)
def test_systemd_analyze_verify(tmp_path: Path, unit: str) -> None:
    folder = installed(tmp_path)
    checked = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", str(folder / unit)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Unknown keys and other mistakes are warnings with exit status 0: none at all.
    assert checked.returncode == 0 and checked.stderr == "" and checked.stdout == "", (
        checked.stderr + checked.stdout
    )


def test_each_instance_listens_where_its_name_says() -> None:
    web = (UNITS / "vitrine-web@.service").read_text()
    relay = (UNITS / "vitrine-relay@.service").read_text()
    assert "Environment=WEB_BIND=127.0.0.1:%i" in web
    assert "--host 127.0.0.1 --port %i" in relay
