"""`vitrine colour-card` prints the card that staff download from the console; the card it
prints is the one the detector knows (found, at ΔE ≈ 0, when photographed flat)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from sessions.colour import analyse
from web.cli import ROOT, main


def test_the_printed_card_is_found_and_the_shipped_one_is_current(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["colour-card", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    png = (tmp_path / "vitrine-colour-card.png").read_bytes()
    assert (tmp_path / "vitrine-colour-card.pdf").read_bytes().startswith(b"%PDF")
    # Photographed flat, on a wall, with no cast: every patch is its own truth.
    card = np.asarray(Image.open(BytesIO(png)).convert("RGB").resize((900, 600)))
    frame = np.full((720, 1280, 3), 128, np.uint8)
    frame[60:660, 190:1090] = card
    analysis = analyse(frame)
    assert analysis.patches_used == 24 and analysis.delta_e_mean < 0.5
    # What the console links to is what the command prints today.
    assert (ROOT / "web/static/colour/vitrine-colour-card.png").read_bytes() == png
