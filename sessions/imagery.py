"""Product pictures drawn locally with OpenCV, so the demo needs no downloads."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SHAPES = ("bag", "dress", "scarf", "shoe", "coat", "ring")


def _hex_to_bgr(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return (b, g, r)


def _draw_shape(img: np.ndarray, shape: str, colour: tuple[int, int, int]) -> None:
    h, w = img.shape[:2]
    cx, cy = w // 2, h // 2 + 20
    dark = tuple(max(0, c - 60) for c in colour)
    if shape == "bag":
        cv2.rectangle(img, (cx - 170, cy - 90), (cx + 170, cy + 170), colour, -1)
        cv2.ellipse(img, (cx, cy - 90), (110, 110), 0, 180, 360, dark, 18)
        cv2.rectangle(img, (cx - 25, cy - 40), (cx + 25, cy), dark, -1)
    elif shape == "dress":
        pts = np.array(
            [[cx - 60, cy - 200], [cx + 60, cy - 200], [cx + 190, cy + 200], [cx - 190, cy + 200]],
            np.int32,
        )
        cv2.fillPoly(img, [pts], colour)
        cv2.rectangle(img, (cx - 70, cy - 40), (cx + 70, cy - 20), dark, -1)
    elif shape == "scarf":
        for i in range(6):
            y = cy - 150 + i * 55
            cv2.line(img, (cx - 200, y), (cx + 200, y + 40), colour if i % 2 else dark, 38)
    elif shape == "shoe":
        cv2.ellipse(img, (cx, cy + 80), (210, 70), 0, 0, 360, colour, -1)
        cv2.rectangle(img, (cx + 120, cy - 60), (cx + 180, cy + 80), dark, -1)
        cv2.ellipse(img, (cx - 60, cy + 40), (110, 70), 0, 180, 360, colour, -1)
    elif shape == "coat":
        pts = np.array(
            [
                [cx - 120, cy - 200],
                [cx + 120, cy - 200],
                [cx + 170, cy + 210],
                [cx - 170, cy + 210],
            ],
            np.int32,
        )
        cv2.fillPoly(img, [pts], colour)
        cv2.line(img, (cx, cy - 200), (cx, cy + 210), dark, 8)
        for y in range(cy - 120, cy + 180, 70):
            cv2.circle(img, (cx + 25, y), 10, dark, -1)
    else:  # ring
        cv2.circle(img, (cx, cy + 40), 130, colour, 30)
        cv2.circle(img, (cx, cy - 110), 45, (250, 250, 255), -1)


def draw_product_image(
    path: Path, *, name: str, shape: str, colour_hex: str, size: int = 800
) -> Path:
    """A square JPEG: soft background, the product's silhouette, its name."""
    background = np.full((size, size, 3), (238, 241, 245), np.uint8)
    gradient = np.linspace(0, 25, size, dtype=np.uint8)[:, None, None]
    img: np.ndarray = cv2.subtract(background, np.broadcast_to(gradient, background.shape).copy())
    _draw_shape(img, shape if shape in SHAPES else "bag", _hex_to_bgr(colour_hex))
    font = cv2.FONT_HERSHEY_DUPLEX
    (tw, _), _ = cv2.getTextSize(name, font, 1.1, 2)
    cv2.putText(img, name, ((size - tw) // 2, size - 50), font, 1.1, (40, 40, 40), 2, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return path


def draw_portrait(path: Path, *, initials: str, colour_hex: str, size: int = 320) -> Path:
    img = np.full((size, size, 3), _hex_to_bgr(colour_hex), np.uint8)
    font = cv2.FONT_HERSHEY_DUPLEX
    (tw, th), _ = cv2.getTextSize(initials, font, 3, 5)
    cv2.putText(
        img,
        initials,
        ((size - tw) // 2, (size + th) // 2),
        font,
        3,
        (255, 255, 255),
        5,
        cv2.LINE_AA,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return path
