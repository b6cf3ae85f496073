"""The checkout webhook against real HTTP servers on loopback: signed, checked, survivable.

The receiver runs on 127.0.0.1, which production refuses; only the happy-path
tests turn ALLOW_PRIVATE_WEBHOOK_HOSTS on. With it off (the default), a webhook
row that points at loopback — stored before the checks existed, or a name whose
DNS answer changed since it was saved — is refused when the checkout calls it.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.models import Brand, Variant
from tests.conftest import login
from tests.factories import Factory
from tests.servers import free_port
from web.api import live as live_api


@dataclass
class Shop:
    """A real HTTP server standing in for the brand's shop."""

    url: str
    status: int = 202
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def shop() -> Iterator[Shop]:
    made = Shop(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            made.received.append((dict(self.headers), body))
            self.send_response(made.status)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    made.url = f"http://127.0.0.1:{server.server_port}/hooks/vitrine"
    yield made
    server.shutdown()
    server.server_close()


@dataclass
class Setup:
    brand: Brand
    variant: Variant
    admin: FlaskClient
    shopper: FlaskClient


@pytest.fixture
def setup(app: Flask, factory: Factory, session: Session) -> Setup:
    brand = factory.brand()
    variant = factory.variants(factory.product(brand, stock=4))[0]
    admin = app.test_client()
    login(admin, factory.admin(brand).email)
    session.commit()
    return Setup(brand, variant, admin, app.test_client())


def configure(app: Flask, setup: Setup, **settings: str) -> dict[str, Any]:
    """Save settings through the API, as the brand's admin would (private hosts allowed)."""
    app.config["ALLOW_PRIVATE_WEBHOOK_HOSTS"] = True
    saved = setup.admin.patch(f"/api/brands/{setup.brand.id}", json=settings)
    assert saved.status_code == 200, saved.json
    return dict(saved.json)


def fill_bag(setup: Setup, quantity: int = 2) -> int:
    added = setup.shopper.post(
        "/api/bag/lines", json={"variant_id": setup.variant.id, "quantity": quantity}
    )
    assert added.status_code == 201, added.json
    return int(added.json["bag"]["id"])


def checkout(setup: Setup) -> Any:
    return setup.shopper.post("/api/bag/checkout", json={"brand_id": setup.brand.id})


def bag_count(setup: Setup) -> int:
    return int(setup.shopper.get(f"/api/bag?brand_id={setup.brand.id}").json["count"])


def test_a_saved_webhook_signs_with_its_generated_secret(
    app: Flask, setup: Setup, shop: Shop
) -> None:
    secret = configure(app, setup, checkout_webhook_url=shop.url)["new_webhook_secret"]
    fill_bag(setup)
    done = checkout(setup)
    assert done.status_code == 200, done.json
    assert done.json == {"method": "webhook", "redirect_url": None, "status_code": 202}
    headers, body = shop.received[0]
    assert headers["Host"] == shop.url.split("/")[2]
    stamp, signature = (part.split("=", 1)[1] for part in headers["X-Vitrine-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert bag_count(setup) == 0


def test_a_rotated_secret_signs_the_next_checkout(app: Flask, setup: Setup, shop: Shop) -> None:
    configure(app, setup, checkout_webhook_url=shop.url)
    rotated = setup.admin.post(f"/api/brands/{setup.brand.id}/webhook-secret").json
    fill_bag(setup)
    assert checkout(setup).status_code == 200
    headers, body = shop.received[0]
    stamp, signature = (part.split("=", 1)[1] for part in headers["X-Vitrine-Signature"].split(","))
    key = rotated["webhook_secret"].encode()
    assert signature == hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_loopback_webhook_is_refused_at_send_time(
    app: Flask, setup: Setup, shop: Shop, session: Session
) -> None:
    configure(app, setup, checkout_webhook_url=shop.url)
    app.config["ALLOW_PRIVATE_WEBHOOK_HOSTS"] = False  # production's rule, at checkout
    fill_bag(setup)
    refused = checkout(setup)
    assert refused.status_code == 503
    assert "bag is kept" in refused.json["message"]
    assert shop.received == []  # the request never left
    assert bag_count(setup) == 2


def test_a_name_resolving_to_loopback_is_refused_at_send_time(
    app: Flask, setup: Setup, shop: Shop
) -> None:
    """``localhost`` stands for a public name whose DNS answer changed after saving."""
    port = shop.url.split(":")[2].split("/")[0]
    configure(
        app,
        setup,
        checkout_webhook_url=f"http://localhost:{port}/hooks/vitrine",
        checkout_url_template="https://shop.example/cart?add={skus}",
    )
    app.config["ALLOW_PRIVATE_WEBHOOK_HOSTS"] = False
    fill_bag(setup, 1)
    done = checkout(setup)
    # The cart URL still takes the shopper to the shop; the webhook was not called.
    assert done.status_code == 200, done.json
    assert done.json["method"] == "url" and done.json["status_code"] is None
    assert done.json["redirect_url"] == f"https://shop.example/cart?add={setup.variant.sku}:1"
    assert shop.received == []


def test_a_webhook_without_a_secret_no_longer_blocks_the_cart_url(
    app: Flask, setup: Setup, shop: Shop, session: Session
) -> None:
    """A row saved before secrets were generated: the cart URL works, the webhook waits."""
    brand = session.get(Brand, setup.brand.id)
    assert brand is not None
    brand.checkout_webhook_url = shop.url
    brand.checkout_url_template = "https://shop.example/cart?add={skus}"
    session.add(brand)
    session.commit()
    app.config["ALLOW_PRIVATE_WEBHOOK_HOSTS"] = True
    fill_bag(setup, 1)
    done = checkout(setup)
    assert done.status_code == 200, done.json
    assert done.json["method"] == "url" and shop.received == []


def test_a_javascript_cart_url_stored_earlier_never_becomes_a_redirect(
    setup: Setup, session: Session
) -> None:
    brand = session.get(Brand, setup.brand.id)
    assert brand is not None
    brand.checkout_url_template = "javascript:alert(document.cookie)//{skus}"
    session.add(brand)
    session.commit()
    fill_bag(setup, 1)
    response = setup.shopper.post(f"/checkout/{brand.slug}")
    assert response.status_code == 409 and "Location" not in response.headers
    assert "misconfigured" in response.get_data(as_text=True)
    assert bag_count(setup) == 1


# --- a shop that is down, slow or failing -----------------------------------------------


@pytest.fixture
def down_url() -> str:
    """Nothing listens on this port: connection refused."""
    return f"http://127.0.0.1:{free_port()}/hooks/vitrine"


@pytest.fixture
def silent_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A socket that listens but never answers: the webhook times out."""
    monkeypatch.setattr(live_api, "WEBHOOK_TIMEOUT_SECONDS", 0.5)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hooks/vitrine"


@pytest.mark.parametrize("shop_state", ["down", "silent", "failing"])
def test_a_shop_that_does_not_take_the_bag_keeps_it_intact(
    app: Flask,
    setup: Setup,
    shop: Shop,
    shop_state: str,
    request: pytest.FixtureRequest,
    session: Session,
) -> None:
    url = {"down": "down_url", "silent": "silent_url", "failing": None}[shop_state]
    target = request.getfixturevalue(url) if url else shop.url
    shop.status = 500
    configure(app, setup, checkout_webhook_url=target)
    bag_id = fill_bag(setup)
    refused = checkout(setup)
    assert refused.status_code == 503, refused.json
    assert refused.json["error"] == "checkout_unavailable"
    assert "did not take the bag" in refused.json["message"]
    assert "bag is kept" in refused.json["message"]
    bag = setup.shopper.get(f"/api/bag?brand_id={setup.brand.id}").json
    assert bag["id"] == bag_id and bag["count"] == 2  # nothing lost
    variant = session.get(Variant, setup.variant.id)
    assert variant is not None
    session.refresh(variant)
    session.commit()
    assert variant.stock == 2  # still held for the shopper, not sold, not returned
    # The bag page's form: a readable page, not a 500 or a dead link.
    page = setup.shopper.post(f"/checkout/{setup.brand.slug}", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "bag is kept" in page.get_data(as_text=True)
    if shop_state == "failing":  # the shop recovers: the same bag goes through
        shop.status = 200
        assert checkout(setup).json["status_code"] == 200
        assert bag_count(setup) == 0


def test_a_failing_shop_falls_back_to_the_cart_url(app: Flask, setup: Setup, shop: Shop) -> None:
    shop.status = 502
    configure(
        app,
        setup,
        checkout_webhook_url=shop.url,
        checkout_url_template="https://shop.example/cart?add={skus}",
    )
    fill_bag(setup, 1)
    done = checkout(setup)
    assert done.status_code == 200, done.json
    assert done.json == {
        "method": "url",
        "redirect_url": f"https://shop.example/cart?add={setup.variant.sku}:1",
        "status_code": 502,
    }
    assert len(shop.received) == 1
