"""Synthetic camera frames of the card and a piece, under a known light (tests, bench).

A physically sensible chain, independent of the correction it tests: the true sRGB of
each surface → linear light → XYZ → the scene's illuminant as a camera that does not
white-balance sees it (a von Kries adaptation from D65 to the lamp's white) → the
camera's own primaries (a cross-talk matrix, not sRGB's) and exposure → a 2.2 power
curve (not the sRGB curve the corrector assumes) → Gaussian sensor noise → 8 bits,
with the card under a slight perspective and the scene then JPEG-encoded as the relay does.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sessions.colour import card
from sessions.colour._science import D65, colour_science

# White points of the casts (CIE 1931 xy).
LIGHTS: dict[str, np.ndarray] = {
    "warm tungsten": colour_science.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["A"],
    "cool daylight": colour_science.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D75"],
    # A fluorescent or cheap LED's green cast: D65 moved well up the green axis.
    "green tint": np.array([0.3027, 0.3629]),
}
# A webcam's sensor: primaries a little off sRGB's, rows sum to 1 (white stays white).
CAMERA = np.array([[0.86, 0.17, -0.03], [0.06, 0.88, 0.06], [0.02, 0.10, 0.88]])


@dataclass(frozen=True)
class Scene:
    rgb: np.ndarray  # the frame, RGB uint8
    piece_centre: tuple[float, float]  # where the piece is, as a fraction of width and height
    piece_lab: np.ndarray  # its true colour, Lab D65


def _camera_view(linear_srgb: np.ndarray, light: np.ndarray, exposure: float) -> np.ndarray:
    xyz = colour_science.RGB_to_XYZ(linear_srgb, "sRGB")
    cast = colour_science.chromatic_adaptation(
        xyz, colour_science.xy_to_XYZ(D65), colour_science.xy_to_XYZ(light), method="Von Kries"
    )
    rgb = colour_science.XYZ_to_RGB(cast, "sRGB") @ CAMERA.T
    # Auto-exposure: the lamp's white lands at ``exposure`` in the camera's fullest channel.
    white = (
        np.asarray(colour_science.XYZ_to_RGB(colour_science.xy_to_XYZ(light), "sRGB")) @ CAMERA.T
    )
    return np.clip(rgb * exposure / float(np.max(white)), 0.0, 1.0)


def render(
    light: str,
    *,
    size: tuple[int, int] = (1280, 720),
    piece_srgb8: tuple[int, int, int] = (118, 170, 222),  # a sky blue
    with_card: bool = True,
    noise: float = 2.0,  # 8-bit units of sensor noise
    exposure: float = 0.9,
    seed: int = 0,
    noise_seed: int | None = None,  # another frame of the same view: only the noise differs
    jpeg: bool = True,  # False: the sensor's frame, for a fake camera that encodes it itself
) -> Scene:
    rng = np.random.default_rng(seed)
    width, height = size
    # The true scene in linear sRGB: a warm grey wall, the piece, the card.
    wall = np.asarray(colour_science.cctf_decoding(np.array([150, 142, 132]) / 255.0))
    scene = np.ones((height, width, 3)) * wall
    px0, py0, px1, py1 = (
        int(width * 0.08),
        int(height * 0.18),
        int(width * 0.40),
        int(height * 0.85),
    )
    piece = np.asarray(colour_science.cctf_decoding(np.asarray(piece_srgb8) / 255.0))
    # A fabric's weave: ±4 % of light, as much darker as lighter (its median is its colour).
    weave = 1.0 + 0.04 * np.sin(np.arange(px1 - px0) / 1.7)[None, :, None]
    scene[py0:py1, px0:px1] = piece * weave
    if with_card:
        scene = _place_card(scene, rng)
    frame = _camera_view(scene, LIGHTS[light], exposure) ** (1 / 2.2) * 255
    sensor = rng if noise_seed is None else np.random.default_rng([seed, noise_seed])
    frame = np.clip(frame + sensor.normal(0.0, noise, frame.shape), 0, 255).astype(np.uint8)
    rgb = _jpeg_round_trip(frame) if jpeg else frame
    centre = ((px0 + px1) / 2 / width, (py0 + py1) / 2 / height)
    lab = np.asarray(colour_science.XYZ_to_Lab(colour_science.RGB_to_XYZ(piece, "sRGB"), D65))
    return Scene(rgb, centre, lab)


def _jpeg_round_trip(rgb: np.ndarray) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert decoded is not None
    return np.ascontiguousarray(decoded[..., ::-1])


def _place_card(scene: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The card, held at a slight angle, on the right half of the frame."""
    height, width = scene.shape[:2]
    printed = np.asarray(colour_science.cctf_decoding(card.render() / 255.0))
    w = width * 0.45
    h = w * card.HEIGHT / card.WIDTH
    x, y = width * 0.50, (height - h) / 2
    jitter = rng.uniform(-0.03, 0.03, (4, 2)) * w
    target = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]) + jitter
    source = np.array(
        [[0, 0], [card.WIDTH, 0], [card.WIDTH, card.HEIGHT], [0, card.HEIGHT]], dtype=np.float32
    )
    warp = cv2.getPerspectiveTransform(source, target.astype(np.float32))
    size = (width, height)
    placed = cv2.warpPerspective(printed.astype(np.float32), warp, size, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones(printed.shape[:2], np.float32), warp, size)[..., None]
    return scene * (1 - mask) + placed * mask
