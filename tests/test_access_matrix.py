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
from io import BytesIO

import cv2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from sessions.colour import scene
from sessions.models import (
    AssociateProfile,
    Brand,
    ConsultationConsent,
    LiveSession,
    SessionKind,
    SessionStatus,
    ShowStatus,
)
from tests.booking.matrix import booking_bodies
from tests.conftest import login
from tests.factories import Factory
from tests.security.consultation_world import changed_tables, snapshot
from tests.shows.conftest import Cast
from tests.shows.conftest import cast as cast  # the co-host rows' people (a fixture)
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


# --- a show's co-host (web/cohost/views.py, sessions.access: access_cohost_*) ----------------
# Not API operations, so listed here: for each action, who is refused with what, and who
# is allowed. On a live show whose guest co-host accepted the link (``guest``).

REFUSED_STAFF_ACTION = [
    ("anonymous", 401),
    ("shopper", 401),
    ("guest", 401),
    ("colleague", 403),
    ("other_admin", 403),
]
COHOST_ROWS: dict[str, tuple[list[tuple[str, int]], tuple[str, int]]] = {
    "invite": (
        REFUSED_STAFF_ACTION,
        ("admin", 201),
    ),
    "mute": (
        REFUSED_STAFF_ACTION,
        ("host", 200),
    ),
    "remove": (
        REFUSED_STAFF_ACTION,
        ("admin", 200),
    ),
    "publish": (
        [
            (who, 403)
            for who in ("anonymous", "shopper", "host", "admin", "other_admin", "colleague")
        ],
        ("guest", 200),
    ),
    "accept_again": (
        [("anonymous", 403), ("shopper", 403), ("guest", 403), ("host", 403)],
        ("platform", 201),  # the control: a platform admin may still invite anew
    ),
}


@pytest.mark.parametrize("action", sorted(COHOST_ROWS))
def test_cohost_refusals(action: str, app: Flask, engine: Engine, cast: Cast) -> None:
    show = cast.show_in(ShowStatus.LIVE)
    inviter = cast.client(app, "host")
    inviter.environ_base["HTTP_ACCEPT"] = "application/json"
    link = inviter.post(f"/console/shows/{show.id}/cohost", json={"guest_name": "Inès"})
    token = link.get_json()["link"].rsplit("/cohost/", 1)[1]
    cohost_id = link.get_json()["cohost"]["cohost_id"]
    guest = app.test_client()
    assert guest.post(f"/cohost/{token}").status_code == 302
    if action in ("invite", "accept_again"):
        # Invite anew: the current co-host is removed first (one at a time).
        assert inviter.post(f"/console/cohosts/{cohost_id}/remove").status_code == 200
    requests = {
        "invite": ("post", f"/console/shows/{show.id}/cohost", {"guest_name": "Another"}),
        "mute": ("post", f"/console/cohosts/{cohost_id}/mute", {"muted": True}),
        "remove": ("post", f"/console/cohosts/{cohost_id}/remove", None),
        "publish": ("post", f"/cohost/stage/{cohost_id}/grant", None),
        "accept_again": ("post", f"/cohost/{token}", None),
    }
    refused, (allowed_who, allowed_status) = COHOST_ROWS[action]
    method, url, body = requests[action]

    def client_of(who: str) -> FlaskClient:
        client = guest if who == "guest" else cast.client(app, who)
        client.environ_base["HTTP_ACCEPT"] = "application/json"
        return client

    clients = {who: client_of(who) for who, _ in [*refused, (allowed_who, 0)]}  # signed in
    cast.session.commit()
    before = snapshot(engine)
    for who, status in refused:
        answer = clients[who].open(url, method=method.upper(), json=body)
        assert answer.status_code == status, f"{action}: {who} must be refused ({status})"
    assert changed_tables(before, snapshot(engine)) == [], "a refused call changed rows"
    if action == "accept_again":
        method, url, body = requests["invite"]
    answer = clients[allowed_who].open(url, method=method.upper(), json=body)
    assert answer.status_code == allowed_status, answer.get_data(as_text=True)[:300]


# -- colour truth (web/console/colour.py): multipart console routes, outside the JSON API --


def test_colour_routes_refuse_whoever_may_not_use_them(
    app: Flask, factory: Factory, engine: Engine
) -> None:
    """A consultation's colour preview and snapshot are its host's (access_host); a variant's
    reference colour is its brand's staff's (access_variant_reference_colour)."""
    brand_a, brand_b = factory.brand(), factory.brand()
    host, colleague = factory.associate(brand_a), factory.associate(brand_a)
    shopper = factory.shopper()
    live = LiveSession(
        brand_id=brand_a.id,  # type: ignore[arg-type]
        kind=SessionKind.CONSULTATION,
        shopper_id=shopper.id,
        associate_id=host.id,
        room="consult-colour-matrix",
        status=SessionStatus.LIVE,
    )
    factory.session.add(live)
    factory.session.commit()
    factory.session.add(
        ConsultationConsent(live_session_id=live.id, shopper_id=shopper.id, accepted=True)
    )
    variant = factory.variants(factory.product(brand_a))[0]
    admin_b = factory.admin(brand_b).email
    host_email, colleague_email = factory.user_of(host).email, factory.user_of(colleague).email
    factory.session.commit()
    frame = scene.render("cool daylight", seed=8)
    ok, data = cv2.imencode(".jpg", frame.rgb[..., ::-1])
    assert ok
    x, y = (f"{v:.3f}" for v in frame.piece_centre)

    def send(client: FlaskClient, url: str) -> int:
        form = {"image": (BytesIO(data.tobytes()), "s.jpg"), "x": x, "y": y, "colour": "1"}
        return client.post(
            url,
            data=form,
            content_type="multipart/form-data",
            headers={"Accept": "application/json"},
        ).status_code

    guest = app.test_client()
    guest.get("/")
    # Signed in first: a sign-in writes rows of its own.
    others = [(app.test_client(), 401), (guest, 401), (signed_in(app, admin_b), 403)]
    colleague_client, host_client = signed_in(app, colleague_email), signed_in(app, host_email)
    rows = [
        (f"/console/live/{live.id}/colour", True, 200),
        (f"/console/live/{live.id}/snapshot", True, 201),
        (f"/console/variants/{variant.id}/reference-colour", False, 200),
    ]
    for url, hosts_only, allowed in rows:
        before = snapshot(engine)
        refusals = others + ([(colleague_client, 403)] if hosts_only else [])
        for client, status in refusals:
            assert send(client, url) == status, url
        assert changed_tables(before, snapshot(engine)) == [], f"{url}: a refusal changed rows"
        assert send(host_client, url) == allowed, url
    # The colleague is brand A's staff: they may keep a variant's colour too.
    assert send(colleague_client, rows[2][0]) == 200


def test_try_on_and_shelf_stock_refuse_whoever_may_not_use_them(
    app: Flask, factory: Factory, engine: Engine
) -> None:
    """Shelf stock is the brand admin's (access_store_stock), by the API and the product
    page; "Try it on for me" is a shopper's, on a product they may see (access_tryon_ask).
    Every refusal changes nothing."""
    brand_a, brand_b = factory.brand(), factory.brand()
    store = factory.store(brand_a)
    associate = factory.associate(brand_a, store)
    product = factory.product(brand_a, sizes=("M",))
    hidden = factory.product(brand_a, sizes=("M",))
    hidden.is_active = False
    factory.session.add(hidden)
    (variant,) = factory.variants(product)
    (hidden_variant,) = factory.variants(hidden)
    admin_a, admin_b = factory.admin(brand_a).email, factory.admin(brand_b).email
    associate_email = factory.user_of(associate).email
    ids = (brand_a.id, store.id, product.id, variant.id, hidden_variant.id)
    factory.session.commit()
    brand_id, store_id, product_id, variant_id, hidden_id = ids
    admin_client, admin_b_client = signed_in(app, admin_a), signed_in(app, admin_b)
    associate_client = signed_in(app, associate_email)

    stock_url = f"/api/variants/{variant_id}/stores/{store_id}/stock"
    shelves_url = f"/admin/products/{product_id}/shelves"
    shelf_form = {f"shelf_v{variant_id}_s{store_id}": "3"}
    before = snapshot(engine)
    for client, status in [
        (app.test_client(), 401),
        (associate_client, 403),
        (admin_b_client, 403),
    ]:
        assert client.put(stock_url, json={"quantity": 3}).status_code == status
    for client, statuses in [
        (app.test_client(), (302, 401)),  # to the sign-in page
        (associate_client, (403,)),
        (admin_b_client, (403, 404)),
    ]:
        response = client.post(shelves_url, data=shelf_form)
        assert response.status_code in statuses, (response.status_code, response.data[:200])
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]
    assert changed_tables(before, snapshot(engine)) == [], "a shelf refusal changed rows"
    assert admin_client.put(stock_url, json={"quantity": 3}).status_code == 200
    assert admin_client.post(shelves_url, data=shelf_form).status_code == 302

    tryon_url = f"/api/brands/{brand_id}/tryon"
    before = snapshot(engine)
    staff = associate_client.post(tryon_url, json={"variant_id": variant_id})
    assert staff.status_code == 403 and staff.json["error"] == "not_shopper", staff.json
    shopper = app.test_client()
    unseen = shopper.post(tryon_url, json={"variant_id": hidden_id})
    assert unseen.status_code == 404, unseen.json
    other_brand = shopper.post(f"/api/brands/{brand_b.id}/tryon", json={"variant_id": variant_id})
    assert other_brand.status_code == 422, other_brand.json
    assert changed_tables(before, snapshot(engine)) in ([], ["shoppers"]), "a refusal asked"
    # Past the gate: answered (no store has it on a shelf yet: said so, nothing routed).
    asked = shopper.post(tryon_url, json={"variant_id": variant_id})
    assert asked.status_code == 201 and asked.json["routed"] is False, asked.json
