"""The embed's token: short-lived, bound to the brand whose page handed it out, and carried
to checkout in the top window (`POST /embed/checkout`) so the bag there is the same one.
The browser journey across two sites is tests/browser/test_embed_cross_site.py."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from sessions.shows.lifecycle import do_start_show
from tests.factories import OPERATOR, Factory
from web.extensions import socketio


def embed_token(app: Flask, show_id: int | None) -> str:
    html = app.test_client().get(f"/embed/shows/{show_id}").get_data(as_text=True)
    match = re.search(r'data-embed-token="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def two_brands(factory: Factory) -> dict[str, Any]:
    ours, theirs = factory.brand(), factory.brand()
    world = {
        "ours": ours,
        "theirs": theirs,
        "show": factory.show(ours),
        "their_show": factory.show(theirs),
        "variant": factory.variants(factory.product(ours))[0],
        "their_variant": factory.variants(factory.product(theirs))[0],
    }
    factory.session.commit()
    return world


def test_the_token_works_for_its_brand_only(app: Flask, factory: Factory) -> None:
    world = two_brands(factory)
    token = embed_token(app, world["show"].id)
    header = {"X-Vitrine-Embed": token}
    http = app.test_client(use_cookies=False)
    ours = http.post("/api/bag/lines", json={"variant_id": world["variant"].id}, headers=header)
    assert ours.status_code == 201, ours.json
    assert http.get(f"/api/bag?brand_id={world['ours'].id}", headers=header).json["count"] == 1
    # The same token on another brand's product, bag or live session stands for nobody.
    theirs = http.post(
        "/api/bag/lines", json={"variant_id": world["their_variant"].id}, headers=header
    )
    assert theirs.status_code == 201  # a guest of its own: the embed's shopper is not used
    assert http.get(f"/api/bag?brand_id={world['ours'].id}", headers=header).json["count"] == 1
    whoami = http.get("/whoami", headers=header).get_json()
    assert whoami["kind"] == "shopper"
    their_bag = http.get(f"/api/bag?brand_id={world['theirs'].id}", headers=header)
    assert their_bag.status_code in (200, 401) and (their_bag.json or {}).get("count", 0) == 0


def test_an_embed_socket_joins_its_brands_rooms_only(app: Flask, factory: Factory) -> None:
    world = two_brands(factory)
    ours = do_start_show(factory.session, OPERATOR, world["show"])
    theirs = do_start_show(factory.session, OPERATOR, world["their_show"])
    factory.session.commit()
    token = embed_token(app, world["show"].id)
    sio = socketio.test_client(
        app, flask_test_client=app.test_client(use_cookies=False), auth={"embed_token": token}
    )
    try:
        joined = sio.emit("join", {"session_id": ours.id}, callback=True)
        assert joined["ok"] is True, joined
        refused = sio.emit("join", {"session_id": theirs.id}, callback=True)
        assert refused["ok"] is False and "another brand" in refused["message"], refused
    finally:
        sio.disconnect()


def test_checkout_in_the_top_window_is_the_same_shopper(app: Flask, factory: Factory) -> None:
    world = two_brands(factory)
    token = embed_token(app, world["show"].id)
    inside = app.test_client(use_cookies=False)
    added = inside.post(
        "/api/bag/lines",
        json={"variant_id": world["variant"].id, "quantity": 2},
        headers={"X-Vitrine-Embed": token},
    )
    assert added.status_code == 201
    bag_id = added.json["bag"]["id"]
    # The top window: Vitrine's own site, with a guest cookie of an earlier visit.
    top: FlaskClient = app.test_client()
    assert top.get(f"/api/bag?brand_id={world['ours'].id}").json["count"] == 0
    moved = top.post("/embed/checkout", data={"embed_token": token})
    assert moved.status_code == 303
    assert moved.headers["Location"].endswith(f"/b/{world['ours'].slug}/bag")
    bag = top.get(f"/api/bag?brand_id={world['ours'].id}").json
    assert bag["count"] == 2 and bag["id"] == bag_id
    assert top.get(moved.headers["Location"]).status_code == 200


def test_a_forged_or_expired_token_opens_no_checkout(app: Flask, factory: Factory) -> None:
    world = two_brands(factory)
    token = embed_token(app, world["show"].id)
    top = app.test_client()
    for bad in ("", "garbage", token[:-2] + "xx"):
        refused = top.post("/embed/checkout", data={"embed_token": bad})
        assert refused.status_code == 401, refused.data[:300]
    app.config["EMBED_TOKEN_SECONDS"] = -1  # every token is now older than its lifetime
    expired = top.post("/embed/checkout", data={"embed_token": token})
    assert expired.status_code == 401 and b"expired" in expired.data
    header = {"X-Vitrine-Embed": token}
    assert (
        app.test_client(use_cookies=False).get("/whoami", headers=header).get_json()["kind"]
        == "anonymous"
    )
