"""Roles × endpoints: every staff operation of the API refuses whoever may not use it.

Walks every operation declared with a staff auth level and, against brand A's
resources, asserts the refusal for: nobody signed in (401), a guest shopper
(401), brand A's associate where a brand admin is needed (403), and brand B's
admin (403). Brand A's admin is the control: never refused. A new operation
joins the matrix by itself; one with a path parameter the matrix does not know
fails here until it is added to `resource_ids`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sessions.models import Brand
from tests.conftest import login
from tests.factories import Factory
from web.api.spec import OPERATIONS, STAFF_LEVELS, Operation

PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass
class World:
    brand_a: Brand
    ids: dict[str, int]
    admin_a: str
    associate_a: str
    admin_b: str


@pytest.fixture
def world(factory: Factory) -> World:
    brand_a, brand_b = factory.brand(), factory.brand()
    store = factory.store(brand_a)
    associate = factory.associate(brand_a, store)
    product = factory.product(brand_a, stock=4)
    variant = factory.variants(product)[0]
    show = factory.show(brand_a, host_ids=[associate.id], product_ids=[product.id])
    live = factory.live_session(show)
    ids = {
        "brand_id": brand_a.id,
        "store_id": store.id,
        "associate_id": associate.id,
        "product_id": product.id,
        "variant_id": variant.id,
        "show_id": show.id,
        "live_session_id": live.id,
        "session_id": live.id,
    }
    extra = getattr(factory, "matrix_ids", None)
    if extra is not None:  # areas add their own resources (appointments, messages...)
        ids |= extra(brand_a, associate, product, live)
    return World(
        brand_a=brand_a,
        ids={k: v for k, v in ids.items() if v is not None},
        admin_a=factory.admin(brand_a).email,
        associate_a=factory.user_of(associate).email,
        admin_b=factory.admin(brand_b).email,
    )


def staff_operations() -> list[Operation]:
    return [op for op in OPERATIONS if op.auth in STAFF_LEVELS]


def url_for_op(op: Operation, ids: dict[str, int]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"{op.method.upper()} {op.rule}: add '{name}' to the matrix"
        return str(ids[name])

    return "/api" + PARAM.sub(fill, op.rule)


def call(client: FlaskClient, op: Operation, url: str) -> int:
    body = op.example if op.example is not None else ({} if op.body else None)
    return client.open(url, method=op.method.upper(), json=body).status_code


def test_matrix_covers_operations() -> None:
    assert len(staff_operations()) >= 9


@pytest.mark.parametrize("op", staff_operations(), ids=lambda op: f"{op.method} {op.rule}")
def test_refusals(op: Operation, app: Flask, world: World) -> None:
    url = url_for_op(op, world.ids)

    assert call(app.test_client(), op, url) == 401, "anonymous must be refused"

    shopper = app.test_client()
    shopper.get("/")  # a guest with a cookie, but no account
    assert call(shopper, op, url) == 401, "a shopper must be refused"

    associate = app.test_client()
    login(associate, world.associate_a)
    if op.auth == "brand_admin":
        assert call(associate, op, url) == 403, "an associate is not a brand admin"

    other_admin = app.test_client()
    login(other_admin, world.admin_b)
    assert call(other_admin, op, url) == 403, "brand B's admin must not touch brand A"

    own_admin = app.test_client()
    login(own_admin, world.admin_a)
    assert call(own_admin, op, url) not in (401, 403), "brand A's admin is allowed"
