"""Two brands, a consultation and a show, and a signed-in client for every kind of person.

Used by the access-gate tests and the room matrices (media grants, bags across brands,
admission). Staff and catalogue come from the factories, the booking from its action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from sessions.clock import utcnow
from sessions.models import (
    AssociateProfile,
    AssociateStatus,
    Brand,
    LiveSession,
    Product,
    Shopper,
)
from sessions.service import appointments
from sessions.shows import lifecycle
from tests.booking.conftest import staff
from tests.conftest import login
from tests.factories import Factory

# Everyone the matrices try, from nobody to the platform's admin.
ANONYMOUS = "anonymous"  # no cookie at all
GUEST = "guest"  # another shopper, with a guest cookie
SHOPPER = "shopper"  # the consultation's shopper
HOST = "host"  # brand A's associate who holds the consultation
COLLEAGUE = "colleague"  # another associate of brand A
ADMIN_A = "admin_a"
ADMIN_B = "admin_b"
PLATFORM = "platform"
EVERYONE = (ANONYMOUS, GUEST, SHOPPER, HOST, COLLEAGUE, ADMIN_A, ADMIN_B, PLATFORM)
STAFF = (HOST, COLLEAGUE, ADMIN_A, ADMIN_B, PLATFORM)


@dataclass
class World:
    brand_a: Brand
    brand_b: Brand
    host: AssociateProfile
    colleague: AssociateProfile
    consultation_id: int
    show_id: int
    show_live_id: int
    product_a: Product
    product_b: Product
    variant_a: int
    variant_b: int
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def as_(self, who: str) -> FlaskClient:
        return self.clients[who]


def book_consultation(session: Session, brand: Brand, shopper: Shopper) -> int:
    """The shopper books the first free slot; returns the consultation's id.

    Booked with the domain action, not the API: the API starts a background task that
    sends the confirmation, which would write rows while a test compares snapshots."""
    assert brand.id is not None and shopper.id is not None
    now = utcnow()
    slot = appointments.find_slots(session, brand.id, start=now, end=now + timedelta(days=7))[0]
    appointment = appointments.do_book(
        session,
        brand_id=brand.id,
        associate_id=slot.associate_id,
        store_id=slot.store_id,
        starts_at=slot.starts_at,
        shopper_id=shopper.id,
        name="Camille",
        email="camille@example.com",
    )
    live = appointments.consultation_of(session, appointment)
    session.commit()
    assert live is not None and live.id is not None
    return live.id


def make_world(app: Flask, factory: Factory, session: Session) -> World:
    team = staff(factory, session)
    brand_a, host = team.brand, team.anna
    colleague = factory.associate(brand_a, team.store, name="Bea")
    # A colleague one can hand a consultation to: online, with room for one more.
    colleague.status = AssociateStatus.ONLINE
    colleague.console_seen_at = utcnow()  # present: their console is open (auto-away)
    session.add(colleague)
    session.commit()
    brand_b = factory.brand()
    product_a = factory.product(brand_a, stock=5, name="Sky-blue bag")
    product_b = factory.product(brand_b, stock=5, name="Brand B secret coat")
    show = factory.show(brand_a, host_ids=[host.id], product_ids=[product_a.id])
    show_live = lifecycle.live_session_for_show(session, show)
    # On SQLite every transaction holds the write lock (BEGIN IMMEDIATE): end the read.
    session.commit()
    clients = {who: app.test_client() for who in EVERYONE}
    emails = {
        HOST: factory.user_of(host).email,
        COLLEAGUE: factory.user_of(colleague).email,
        ADMIN_A: factory.admin(brand_a).email,
        ADMIN_B: factory.admin(brand_b).email,
        PLATFORM: factory.platform_admin().email,
    }
    session.commit()
    for who, email in emails.items():
        login(clients[who], email)
    shopper = factory.shopper(name="Camille")
    with clients[SHOPPER].session_transaction() as cookie:
        cookie["shopper_token"] = shopper.token
    # Another guest who has acted before (a page view alone makes no shopper row).
    other_guest = factory.shopper(name="Other guest")
    with clients[GUEST].session_transaction() as cookie:
        cookie["shopper_token"] = other_guest.token
    consultation_id = book_consultation(session, brand_a, shopper)
    assert show_live.id is not None and show_live.show_id is not None
    world = World(
        brand_a=brand_a,
        brand_b=brand_b,
        host=host,
        colleague=colleague,
        consultation_id=consultation_id,
        show_id=show_live.show_id,
        show_live_id=show_live.id,
        product_a=product_a,
        product_b=product_b,
        variant_a=_first_variant(factory, product_a),
        variant_b=_first_variant(factory, product_b),
        clients=clients,
    )
    session.commit()  # the variants were read: end that transaction too
    return world


def _first_variant(factory: Factory, product: Product) -> int:
    variant_id = factory.variants(product)[0].id
    assert variant_id is not None
    return variant_id


def consultation(session: Session, world: World) -> LiveSession:
    """The consultation as stored now (after the calls under test)."""
    session.commit()  # end any read: the next get sees what the app committed
    live = session.get(LiveSession, world.consultation_id)
    assert live is not None
    session.refresh(live)
    session.commit()
    return live


def snapshot(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, to prove a refused call changed nothing at all."""
    with engine.connect() as conn:
        rows = {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(sa_select(table)))
            for table in SQLModel.metadata.sorted_tables
        }
        conn.rollback()
    return rows


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]
