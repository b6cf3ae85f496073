"""Uploaded and generated images (product pictures, logos, covers), served by the app.

In production nginx serves /uploads/ straight from UPLOAD_DIR (see deploy/).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory

bp = Blueprint("media", __name__)


@bp.get("/uploads/<path:filename>")
def upload(filename: str) -> Response:
    response = send_from_directory(current_app.config["UPLOAD_DIR"], filename, max_age=86400)
    return response
