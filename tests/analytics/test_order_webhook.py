"""The shop's order webhook: signed, idempotent, clear 4xx for bad input, nothing counted twice."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from sessions.analytics import metrics
from sessions.models import Bag, Brand, LiveSession, Order
from sessions.shows import lifecycle
from tests.analytics.conftest import SECRET, post_order
from tests.factories import OPERATOR, Factory


@dataclass
class Shop:
    brand: Brand
    live: LiveSession
    bag_id: int
    handoff_id: int
    other_bag_id: int


def _checkout(app: Flask, live: LiveSession, variant_id: int, brand_id: int) -> FlaskClient:
    http = app.test_client()
    assert http.get(f"/api/live-sessions/{live.id}").status_code == 200
    body = {"variant_id": variant_id, "live_session_id": live.id}
    assert http.post("/api/bag/lines", json=body).status_code == 201
    assert http.post("/api/bag/checkout", json={"brand_id": brand_id}).status_code == 200
    return http


@pytest.fixture
def shop(app: Flask, factory: Factory, session: Session) -> Shop:
    brand = factory.brand()
    brand.webhook_secret = SECRET
    brand.checkout_url_template = "https://shop.example/cart?add={skus}"
    session.add(brand)
    session.commit()
    product = factory.product(brand, stock=5, price_minor=12000)
    show = factory.show(brand, product_ids=[product.id])
    live = lifecycle.do_start_show(session, OPERATOR, show)
    variant = factory.variants(product)[0]
    other = factory.brand()
    other.checkout_url_template = "https://other.example/cart?add={skus}"
    session.add(other)
    session.commit()
    other_product = factory.product(other, stock=5)
    other_show = factory.show(other)
    other_live = lifecycle.do_start_show(session, OPERATOR, other_show)
    other_variant = factory.variants(other_product)[0]
    assert brand.id and other.id and variant.id and other_variant.id
    session.commit()  # on SQLite an open read holds the write lock the requests need
    _checkout(app, live, variant.id, brand.id)
    _checkout(app, other_live, other_variant.id, other.id)
    bag = session.exec(select(Bag).where(Bag.brand_id == brand.id)).one()
    other_bag = session.exec(select(Bag).where(Bag.brand_id == other.id)).one()
    from sessions.models import CheckoutHandoff

    handoff = session.exec(select(CheckoutHandoff).where(CheckoutHandoff.bag_id == bag.id)).one()
    session.commit()
    return Shop(brand, live, bag.id, handoff.id, other_bag.id)  # type: ignore[arg-type]


def created(order_id: str = "SHOP-1", **extra: object) -> dict[str, object]:
    return {
        "event": "order.created",
        "order_id": order_id,
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price_minor": 12000}],
        "total_minor": 12000,
        "currency": "EUR",
        **extra,
    }


def orders_stored(session: Session) -> int:
    session.commit()  # a fresh read
    return int(session.exec(select(func.count()).select_from(Order)).one())


def revenue(session: Session, shop: Shop) -> int:
    session.expire_all()
    live = session.get(LiveSession, shop.live.id)
    assert live is not None
    value = metrics.show_summary(session, live).revenue_minor
    session.commit()
    return value


def test_a_signed_order_is_attributed_to_the_show_of_its_hand_off(
    client: FlaskClient, shop: Shop, session: Session
) -> None:
    r = post_order(client, shop.brand.id, created(handoff_id=shop.handoff_id))  # type: ignore[arg-type]
    assert r.status_code == 201, r.json
    assert r.json["attribution"] == "attributed" and r.json["live_session_id"] == shop.live.id
    assert r.json["mode"] == "live" and r.json["duplicate"] is False
    assert revenue(session, shop) == 12000


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "t=123",
        "v1=abc",
        "t=abc,v1=abc",
        "t={now},v1=" + "0" * 64,
    ],
)
def test_an_unsigned_or_badly_signed_order_is_refused(
    client: FlaskClient, shop: Shop, session: Session, signature: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Vitrine-Signature"] = signature.format(now=int(time.time()))
    r = client.post(
        f"/api/brands/{shop.brand.id}/orders",
        data=json.dumps(created(bag_id=shop.bag_id)),
        headers=headers,
    )
    assert r.status_code == 401 and r.json["error"] == "bad_signature", r.json
    assert orders_stored(session) == 0


def test_a_signature_with_another_secret_or_an_old_time_is_refused(
    client: FlaskClient, shop: Shop, session: Session
) -> None:
    body = created(bag_id=shop.bag_id)
    wrong = post_order(client, shop.brand.id, body, secret="someone-else")  # type: ignore[arg-type]
    assert wrong.status_code == 401
    stale = post_order(client, shop.brand.id, body, at=int(time.time()) - 3600)  # type: ignore[arg-type]
    assert stale.status_code == 401 and "five minutes" in stale.json["message"]
    assert orders_stored(session) == 0


def test_a_signed_body_changed_on_the_way_is_refused(
    client: FlaskClient, shop: Shop, session: Session
) -> None:
    from sessions.bags import sign_payload

    raw = json.dumps(created(bag_id=shop.bag_id)).encode()
    signature = sign_payload(SECRET, raw, int(time.time()))
    r = client.post(
        f"/api/brands/{shop.brand.id}/orders",
        data=raw.replace(b"12000", b"99000"),
        headers={"Content-Type": "application/json", "X-Vitrine-Signature": signature},
    )
    assert r.status_code == 401
    assert orders_stored(session) == 0


def test_a_brand_without_a_secret_takes_no_orders(
    client: FlaskClient, shop: Shop, session: Session
) -> None:
    shop.brand.webhook_secret = None
    session.add(shop.brand)
    session.commit()
    r = post_order(client, shop.brand.id, created(bag_id=shop.bag_id))  # type: ignore[arg-type]
    assert r.status_code == 403 and r.json["error"] == "webhook_not_configured"


def test_the_same_order_delivered_again_is_counted_once(
    client: FlaskClient, shop: Shop, session: Session
) -> None:
    body = created(bag_id=shop.bag_id)
    first = post_order(client, shop.brand.id, body)  # type: ignore[arg-type]
    again = post_order(client, shop.brand.id, body)  # type: ignore[arg-type]
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["duplicate"] is True and again.json["id"] == first.json["id"]
    assert orders_stored(session) == 1
    assert revenue(session, shop) == 12000


def test_a_refund_reduces_revenue_once_however_often_it_is_sent(
    client: FlaskClient, shop: Shop, session: Session
) -> None:
    brand_id: int = shop.brand.id  # type: ignore[assignment]
    assert post_order(client, brand_id, created(bag_id=shop.bag_id)).status_code == 201
    refund = {"event": "order.refunded", "order_id": "SHOP-1", "refunded_total_minor": 3000}
    for _ in range(2):
        r = post_order(client, brand_id, refund)
        assert r.status_code == 200 and r.json["refunded_minor"] == 3000
    assert revenue(session, shop) == 9000
    late = {**refund, "refunded_total_minor": 1000}  # an older delivery arriving last
    assert post_order(client, brand_id, late).json["refunded_minor"] == 3000
    full = {**refund, "refunded_total_minor": 12000}
    assert post_order(client, brand_id, full).status_code == 200
    assert revenue(session, shop) == 0
    session.expire_all()
    live = session.get(LiveSession, shop.live.id)
    assert live is not None
    summary = metrics.show_summary(session, live)
    assert (summary.orders, summary.buyers) == (0, 0)  # refunded in full: no longer a sale


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"order_id": "X"}, 422, "invalid"),
        ({"event": "order.shipped", "order_id": "X"}, 422, "invalid"),
        (created(), 422, "invalid"),  # neither bag_id nor handoff_id
        (created(bag_id=1, total_minor=-5), 422, "invalid"),
        (created(bag_id=1, currency="euro"), 422, "invalid"),
        (created(bag_id=1, order_id=""), 422, "invalid"),
        (created(bag_id=1, lines=[{"sku": "A", "quantity": 0, "unit_price_minor": 1}]), 422, None),
        ({"event": "order.refunded", "order_id": "NOPE", "refunded_total_minor": 1}, 404, None),
    ],
)
def test_a_bad_payload_gets_a_4xx_with_a_message(
    client: FlaskClient,
    shop: Shop,
    session: Session,
    body: dict[str, object],
    status: int,
    error: str | None,
) -> None:
    r = post_order(client, shop.brand.id, body)  # type: ignore[arg-type]
    assert r.status_code == status, r.json
    assert r.json["message"] and (error is None or r.json["error"] == error)
    assert orders_stored(session) == 0


def test_not_json_and_unknown_bags_are_refused(
    client: FlaskClient, shop: Shop, session: Session
) -> None:
    brand_id: int = shop.brand.id  # type: ignore[assignment]
    assert post_order(client, brand_id, b"{not json").status_code == 400
    assert post_order(client, brand_id, b"[]").status_code == 422
    unknown = post_order(client, brand_id, created(bag_id=999_999))
    assert unknown.status_code == 404 and "bag" in unknown.json["message"]
    theirs = post_order(client, brand_id, created(bag_id=shop.other_bag_id))
    assert theirs.status_code == 404  # another brand's bag is not this brand's sale
    no_handoff = post_order(client, brand_id, created(handoff_id=999_999))
    assert no_handoff.status_code == 404
    mismatch = post_order(
        client, brand_id, created(bag_id=shop.other_bag_id, handoff_id=shop.handoff_id)
    )
    assert mismatch.status_code == 422
    wrong_currency = post_order(client, brand_id, created(bag_id=shop.bag_id, currency="USD"))
    assert wrong_currency.status_code == 422 and "EUR" in wrong_currency.json["message"]
    too_much = {"event": "order.refunded", "order_id": "SHOP-1", "refunded_total_minor": 1}
    assert post_order(client, brand_id, too_much).status_code == 404
    assert orders_stored(session) == 0


def test_an_order_to_an_unknown_brand_is_a_404(client: FlaskClient) -> None:
    r = post_order(client, 999_999, created(bag_id=1))
    assert r.status_code == 404 and r.json["message"]
