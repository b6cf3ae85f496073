"""Every connection of the pool busy past its timeout (a burst larger than the pool) is a
503 with Retry-After, in words, never a 500; the node serves again once one is free."""

from __future__ import annotations

from flask import Flask

from sessions.db import make_engine


def test_an_exhausted_pool_is_a_503_to_retry_then_the_node_serves_again(app: Flask) -> None:
    # A pool of one connection, no overflow, a short wait: the test holds the one.
    small = make_engine(app.config["DATABASE_URL"], pool_size=1, max_overflow=0, pool_timeout=0.2)
    app.extensions["vitrine.engine"] = small
    client = app.test_client()
    held = small.connect()
    try:
        response = client.get("/api/brands")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.get_json()["error"] == "busy"
        page = client.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 503
    finally:
        held.close()
    assert client.get("/api/brands").status_code == 200
    small.dispose()
