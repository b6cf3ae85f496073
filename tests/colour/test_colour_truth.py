"""Colour truth on synthetic frames: the card is found under warm tungsten, cool daylight
and a green tint (with sensor noise, perspective and JPEG), the corrected patches and a
piece's measured colour land within ΔE2000 3 of the truth, and a frame without the card
says so instead of guessing."""

from __future__ import annotations

import numpy as np
import pytest

from sessions.colour import NoCard, analyse, card, scene
from sessions.colour._science import colour_science
from sessions.colour.measure import delta_e, lab_to_hex
from sessions.colour.words import compare

LIGHTS = sorted(scene.LIGHTS)
PIECES = {"sky blue": (118, 170, 222), "bordeaux": (110, 30, 45), "camel": (193, 154, 107)}


def uncorrected_delta_e(frame: np.ndarray, x: float, y: float, truth: np.ndarray) -> float:
    h, w = frame.shape[:2]
    block = frame[int(y * h) - 10 : int(y * h) + 10, int(x * w) - 10 : int(x * w) + 10]
    rgb = np.median(block.reshape(-1, 3), axis=0) / 255.0
    lab = colour_science.XYZ_to_Lab(colour_science.sRGB_to_XYZ(rgb))
    return float(colour_science.delta_E(lab, truth, "CIE 2000"))


@pytest.mark.parametrize("light", LIGHTS)
@pytest.mark.parametrize("seed", [1, 2])
def test_the_card_is_found_and_corrected_patches_are_within_3(light: str, seed: int) -> None:
    frame = scene.render(light, seed=seed)
    analysis = analyse(frame.rgb)
    assert analysis.patches_used == len(card.patches())
    # Every patch, not just the average, against its true value.
    assert analysis.correction.delta_e_max < 3.0, analysis.correction.delta_e
    assert analysis.delta_e_mean < 1.5
    # And the same patches read again from the corrected picture (what the shopper sees).
    again = analyse(analysis.corrected)
    assert again.correction.delta_e_mean < 3.0


@pytest.mark.parametrize("light", LIGHTS)
@pytest.mark.parametrize("piece", sorted(PIECES))
def test_a_pieces_measured_colour_is_within_3_of_its_truth(light: str, piece: str) -> None:
    frame = scene.render(light, piece_srgb8=PIECES[piece], seed=3)
    x, y = frame.piece_centre
    # The cast is real: uncorrected, the piece is far from its colour.
    assert uncorrected_delta_e(frame.rgb, x, y, frame.piece_lab) > 3.0
    measured = analyse(frame.rgb).measure(x, y)
    assert delta_e(measured.lab, tuple(frame.piece_lab)) < 3.0


def test_a_frame_without_the_card_says_so() -> None:
    frame = scene.render("warm tungsten", with_card=False)
    with pytest.raises(NoCard) as refused:
        analyse(frame.rgb)
    assert refused.value.reason == "no reference card in view"
    # Nor does plain noise or a flat picture pass for a card.
    rng = np.random.default_rng(0)
    for picture in (
        rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8),
        np.zeros((64, 64, 3), np.uint8),
    ):
        with pytest.raises(NoCard):
            analyse(picture)


def test_a_card_half_covered_by_a_hand_is_still_read_from_the_patches_left() -> None:
    frame = scene.render("cool daylight", seed=4)
    covered = frame.rgb.copy()
    h, w = covered.shape[:2]
    # A hand over the card's bottom-left corner: one marker and a few patches.
    covered[int(h * 0.62) :, int(w * 0.48) : int(w * 0.64)] = (190, 140, 120)
    analysis = analyse(covered)
    assert len(card.patches()) > analysis.patches_used >= 18
    assert analysis.correction.delta_e_max < 3.0


def test_words_say_how_far_and_which_way() -> None:
    sky = (66.0, -5.0, -30.0)
    assert compare(sky, sky, 0.0).verdict == "same"
    bluer = compare((66.0, -5.0, -36.0), sky, delta_e((66.0, -5.0, -36.0), sky))
    assert (bluer.verdict, bluer.direction) == ("noticeable", "bluer")
    darker = compare((50.0, -5.0, -30.0), sky, delta_e((50.0, -5.0, -30.0), sky))
    assert (darker.verdict, darker.direction) == ("clear", "darker")
    assert lab_to_hex(card.patches()[21].lab) == "#797979"
