"""Uploaded pictures: checked, resized and re-encoded on the server before they are kept.

Re-encoding (rather than storing the bytes as sent) strips metadata such as GPS
positions and anything that is not really an image.
"""

from __future__ import annotations

import secrets
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from PIL.Image import Image as PILImage

from sessions.errors import InvalidInput

MAX_SIDE = {"products": 1200, "logos": 600, "covers": 1600, "snapshots": 1280}
MAX_PIXELS = 40_000_000


def save_image(data: bytes, upload_dir: str, kind: str, *, field: str = "image") -> str:
    """Store ``data`` as a resized JPEG (PNG for logos, to keep transparency); return its path."""
    if not data:
        raise InvalidInput("Choose an image file.", field=field)
    try:
        with Image.open(BytesIO(data)) as probe:
            probe.verify()
        image: PILImage = Image.open(BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise InvalidInput(
                "This picture is too large; use one under 40 megapixels.", field=field
            )
        image = ImageOps.exif_transpose(image)
        image.thumbnail((MAX_SIDE[kind], MAX_SIDE[kind]))
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise InvalidInput(
            "This file is not a picture we can read (use JPEG or PNG).", field=field
        ) from None
    folder = Path(upload_dir) / kind
    folder.mkdir(parents=True, exist_ok=True)
    keep_alpha = kind == "logos" and image.mode in ("RGBA", "LA", "P")
    suffix = "png" if keep_alpha else "jpg"
    name = f"{secrets.token_hex(8)}.{suffix}"
    if keep_alpha:
        image.convert("RGBA").save(folder / name, "PNG", optimize=True)
    else:
        image.convert("RGB").save(folder / name, "JPEG", quality=86, optimize=True)
    return f"{kind}/{name}"
