"""Uploaded pictures: checked, resized and re-encoded on the server before they are kept.

Re-encoding (rather than storing the bytes as sent) strips metadata such as GPS
positions and anything that is not really an image.
"""

from __future__ import annotations

import secrets
import warnings
from io import BytesIO
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from PIL.Image import Image as PILImage

from sessions.errors import InvalidInput

MAX_SIDE = {"products": 1200, "logos": 600, "covers": 1600, "snapshots": 1280, "people": 600}
MAX_PIXELS = 40_000_000
# Only what a brand or a camera snapshot needs: fewer decoders, less attack surface.
FORMATS = ("JPEG", "PNG", "WEBP")


def _open(data: bytes, field: str) -> PILImage:
    """Open and decode ``data``, refusing a picture that declares too many pixels.

    A PNG of a few kilobytes can declare 30000×30000 pixels and decompress to
    gigabytes (a decompression bomb). The size is read from the header when the
    file is opened, before any pixel is decoded: Pillow warns above its
    MAX_IMAGE_PIXELS and raises above twice that, so both are turned into a
    refusal here, and our own, lower limit applies before decoding.
    """
    too_large = InvalidInput(
        _(
            "This picture is too large; use one under %(mp)s megapixels.",
            mp=MAX_PIXELS // 1_000_000,
        ),
        field=field,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=FORMATS) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise too_large
                probe.verify()
            image: PILImage = Image.open(BytesIO(data), formats=FORMATS)
            image = ImageOps.exif_transpose(image)
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_large from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise InvalidInput(
                _("This file is not a picture we can read (use JPEG or PNG)."), field=field
            ) from None
    return image


def save_image(data: bytes, upload_dir: str, kind: str, *, field: str = "image") -> str:
    """Store ``data`` as a resized JPEG (PNG for logos, to keep transparency); return its path."""
    if not data:
        raise InvalidInput(_("Choose an image file."), field=field)
    return store_image(_open(data, field), upload_dir, kind)


def open_image(data: bytes, *, field: str = "image") -> PILImage:
    """Decode a picture sent to us, with the same checks as a stored one (4xx otherwise)."""
    if not data:
        raise InvalidInput(_("Choose an image file."), field=field)
    return _open(data, field)


def store_image(image: PILImage, upload_dir: str, kind: str) -> str:
    """Store a decoded picture as ``save_image`` does; return its path."""
    image.thumbnail((MAX_SIDE[kind], MAX_SIDE[kind]))
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
