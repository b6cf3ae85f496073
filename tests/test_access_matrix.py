"""Roles × endpoints: every staff operation of the API refuses whoever may not use it.

Walks every operation declared with a staff auth level and, against brand A's
resources, asserts the refusal for: nobody signed in (401), a guest shopper
(401), brand A's associate where a brand admin is needed (403), brand A's other
associate where the operation concerns one associate's own affairs (403), and
brand B's admin (403); a refused call changes no row of any table. The control
is the one allowed to act (brand A's admin; the associate a request is offered
to): it gets the operation's own success status, and its write changes the
database (a read changes nothing). A new operation joins the matrix by itself;
one with a path parameter the matrix does not know fails here until it is added
to the world's ids. A show's start and end are its hosts' alone: there brand A's admin is
refused too, and its associate (the world show's host) is the one allowed; each of a
show's moves is tried on a show in a state that allows it (tests/shows/matrix.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from sessions.models import AssociateProfile, Brand
from tests.booking.matrix import booking_bodies
from tests.conftest import login
from tests.factories import Factory
from tests.security.consultation_world import changed_tables, snapshot
from tests.shows.matrix import FOR_THE_SHOWS_HOSTS, interaction_ids, show_ids
from web.api.spec import OPERATIONS, STAFF_LEVELS, Operation

PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
# A talk-now request or a chat thread is offered to one associate: they, not their admin,
# accept or decline it.
FOR_THE_OFFERED_ASSOCIATE = {
    ("post", "/queue/<int:request_id>/accept"),
    ("post", "/queue/<int:request_id>/decline"),
    ("post", "/threads/<int:thread_id>/accept"),
    ("post", "/threads/<int:thread_id>/decline"),
}
# Path parameters naming one associate's own affairs: a colleague of the same brand is refused.
ONE_ASSOCIATES = {"associate_id", "consultation_id", "appointment_id"}


@dataclass
class World:
    brand_a: Brand
    host: AssociateProfile
    ids: dict[str, int]
    admin_a: str
    associate_a: str
    admin_b: str
    colleague_a: str | None


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
    colleague = (
        factory.session.get(AssociateProfile, ids["colleague_id"])
        if ids.get("colleague_id")
        else None
    )
    return World(
        brand_a=brand_a,
        host=associate,
        ids={k: v for k, v in ids.items() if v is not None},
        admin_a=factory.admin(brand_a).email,
        associate_a=factory.user_of(associate).email,
        admin_b=factory.admin(brand_b).email,
        colleague_a=factory.user_of(colleague).email if colleague else None,
    )


def staff_operations() -> list[Operation]:
    return [op for op in OPERATIONS if op.auth in STAFF_LEVELS]


def url_for_op(op: Operation, ids: dict[str, int]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"{op.method.upper()} {op.rule}: add '{name}' to the matrix"
        return str(ids[name])

    return "/api" + PARAM.sub(fill, op.rule)


def body_for(op: Operation, ids: dict[str, int]) -> dict[str, object] | None:
    named = booking_bodies(ids).get((op.method, op.rule))
    if named is not None:
        return named
    return op.example if op.example is not None else ({} if op.body else None)


def call(client: FlaskClient, op: Operation, url: str, ids: dict[str, int]) -> int:
    return client.open(url, method=op.method.upper(), json=body_for(op, ids)).status_code


def success_status(op: Operation) -> int:
    """What the operation answers when it works: its declared status, 204 when it has no body."""
    return op.status if op.response is not None else 204


def signed_in(app: Flask, email: str | None) -> FlaskClient:
    client = app.test_client()
    if email is None:
        return client
    login(client, email)
    return client


def test_matrix_covers_operations() -> None:
    assert len(staff_operations()) >= 9


@pytest.mark.parametrize("op", staff_operations(), ids=lambda op: f"{op.method} {op.rule}")
def test_refusals(
    op: Operation, app: Flask, world: World, engine: Engine, factory: Factory
) -> None:
    world.ids |= show_ids(op.method, op.rule, factory.session, world.brand_a, world.host)
    world.ids |= interaction_ids(op.method, op.rule, factory.session, world.brand_a, world.host)
    url = url_for_op(op, world.ids)
    shopper = app.test_client()
    shopper.get("/")  # a guest with a cookie, but no account
    refused: list[tuple[str, FlaskClient, int]] = [
        ("anonymous", app.test_client(), 401),
        ("a shopper", shopper, 401),
        ("brand B's admin", signed_in(app, world.admin_b), 403),
    ]
    if op.auth == "brand_admin":
        refused.append(("brand A's associate", signed_in(app, world.associate_a), 403))
    hosts_only = (op.method, op.rule) in FOR_THE_SHOWS_HOSTS
    if (ONE_ASSOCIATES & set(PARAM.findall(op.rule)) or hosts_only) and world.colleague_a:
        refused.append(("brand A's other associate", signed_in(app, world.colleague_a), 403))
    if hosts_only:
        refused.append(("brand A's admin, not a host", signed_in(app, world.admin_a), 403))
    offered = (op.method, op.rule) in FOR_THE_OFFERED_ASSOCIATE
    allowed = signed_in(app, world.associate_a if offered or hosts_only else world.admin_a)

    before = snapshot(engine)
    for who, client, status in refused:
        assert call(client, op, url, world.ids) == status, f"{who} must be refused ({status})"
    assert changed_tables(before, snapshot(engine)) == [], "a refused call changed rows"

    answer = allowed.open(url, method=op.method.upper(), json=body_for(op, world.ids))
    assert answer.status_code == success_status(op), answer.get_data(as_text=True)[:500]
    changed = changed_tables(before, snapshot(engine))
    if op.method == "get":
        assert changed == [], f"a read changed {changed}"
    else:
        assert changed, "the allowed call answered success but changed nothing"
