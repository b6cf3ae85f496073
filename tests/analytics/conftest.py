"""Fixtures for the analytics tests: socket clients (from the rooms tests), signed webhooks."""

from __future__ import annotations

import json
import time
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sessions.bags import sign_payload
from tests.rooms.conftest import connect, room  # noqa: F401  (fixtures, re-exported)

SECRET = "whsec-analytics-test"


def post_order(
    http: FlaskClient,
    brand_id: int,
    body: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    at: int | None = None,
) -> TestResponse:
    """POST the shop's webhook, signed as the shop would sign it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = sign_payload(secret, raw, at if at is not None else int(time.time()))
    return http.post(
        f"/api/brands/{brand_id}/orders",
        data=raw,
        headers={"Content-Type": "application/json", "X-Vitrine-Signature": signature},
    )
