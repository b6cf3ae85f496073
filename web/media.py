"""Uploaded and generated images (product pictures, logos, covers, snapshots), served by the app.

Product pictures, logos and covers are public: nginx may serve /uploads/ straight from
UPLOAD_DIR (see deploy/). Try-on snapshots are not: they belong to a live session, and a
consultation's are for its shopper and the brand's staff only, so they are served here,
behind ``sessions.access.access_snapshot``, and never under /uploads/.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_from_directory
from sqlmodel import col, select

from sessions.access import access_snapshot
from sessions.live import live_or_404
from sessions.models import ChatMessage
from web.db import db
from web.identity import current_actor

bp = Blueprint("media", __name__)

# Folders of UPLOAD_DIR that the public /uploads/ route must never serve.
PRIVATE_FOLDERS = frozenset({"snapshots"})


@bp.get("/uploads/<path:filename>")
def upload(filename: str) -> Response:
    # Normalised first: "a/../snapshots/x" and "./snapshots/x" are still snapshots.
    if posixpath.normpath(filename).lstrip("/").split("/")[0] in PRIVATE_FOLDERS:
        abort(404)
    response = send_from_directory(current_app.config["UPLOAD_DIR"], filename, max_age=86400)
    return response


@bp.get("/snapshots/<int:live_session_id>/<name>")
def snapshot(live_session_id: int, name: str) -> Response:
    """A snapshot sent in this session's chat, to whoever may see that session's pictures."""
    live = live_or_404(db(), live_session_id)
    access_snapshot(current_actor(), live)
    # The picture must have been sent in *this* session: a name seen elsewhere opens nothing.
    sent = (
        db()
        .exec(
            select(ChatMessage.id).where(
                col(ChatMessage.live_session_id) == live.id,
                col(ChatMessage.attachment_path) == f"snapshots/{name}",
            )
        )
        .first()
    )
    if sent is None:
        abort(404)
    folder = Path(current_app.config["UPLOAD_DIR"]) / "snapshots"
    response = send_from_directory(folder, name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
