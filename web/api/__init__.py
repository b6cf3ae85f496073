"""The JSON API under /api/, described at /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from werkzeug.wrappers import Response

from web.api.spec import build_openapi

bp = Blueprint("api", __name__)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_openapi("Vitrine API", "0.1.0"))


@bp.get("/docs")
def docs() -> str:
    """The document to read and try (Swagger UI, served by Vitrine, never from a CDN)."""
    return render_template("api_docs.html")


# Importing the modules registers their operations on `bp`.
from web.api import (
    analytics,  # noqa: F401
    catalogue,  # noqa: F401
    live,  # noqa: F401
    privacy,  # noqa: F401
    show_interaction,  # noqa: F401
    shows,  # noqa: F401
    staff,  # noqa: F401
)
from web.api.service import (
    appointments,  # noqa: F401
    associates,  # noqa: F401
    colleagues,  # noqa: F401
    desk,  # noqa: F401
    escalation,  # noqa: F401
    messages,  # noqa: F401
    queue,  # noqa: F401
    replies,  # noqa: F401
    rooms,  # noqa: F401
    shared_bag,  # noqa: F401
    signin,  # noqa: F401
    threads,  # noqa: F401
    tryon,  # noqa: F401
)
