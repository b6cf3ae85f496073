"""The licence the package declares is the one in LICENSE, unaltered."""

from __future__ import annotations

import hashlib
import tomllib

from tests.servers import ROOT

# sha256 of the FSF's text of the GNU AGPL version 3 (agpl-3.0.txt, 34,523 bytes).
AGPL_3_SHA256 = "8486a10c4393cee1c25392769ddd3b2d6c242d6ec7928e1414efff7dfb2f07ef"


def test_license_is_the_full_unaltered_agpl_3() -> None:
    text = (ROOT / "LICENSE").read_bytes()
    assert text.startswith(b"                    GNU AFFERO GENERAL PUBLIC LICENSE\n")
    assert hashlib.sha256(text).hexdigest() == AGPL_3_SHA256


def test_the_package_declares_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "AGPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]
