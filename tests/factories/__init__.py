"""Make a brand, a user, a product... in one call: `factory.product(brand, stock=5)`."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from sessions import catalogue as cat
from sessions.access import Actor, ActorKind
from sessions.accounts import do_create_associate, do_create_brand, do_create_user
from sessions.clock import utcnow
from sessions.models import (
    AssociateProfile,
    Brand,
    LiveSession,
    Product,
    Role,
    Shopper,
    Show,
    Store,
    User,
    Variant,
)
from sessions.shows import lifecycle

_seq = itertools.count(1)
# Moves shows through their lifecycle in tests that are about something else: a platform
# admin may start or end any show (who else may is tests/shows/test_lifecycle.py's business).
OPERATOR = Actor(kind=ActorKind.PLATFORM_ADMIN, name="Test operator")


class Factory:
    PASSWORD = "correct-horse-battery"

    def __init__(self, session: Session) -> None:
        self.session = session

    def brand(self, **overrides: Any) -> Brand:
        """A brand; its product pages sell (``bag_outside_live``) unless told otherwise:
        most tests add to a bag without a show, and the refusal has tests of its own."""
        n = next(_seq)
        outside_live = overrides.pop("bag_outside_live", True)
        brand = do_create_brand(
            self.session,
            slug=overrides.pop("slug", f"brand-{n}"),
            name=overrides.pop("name", f"Brand {n}"),
            **overrides,
        )
        if outside_live:
            brand.bag_outside_live = True
            self.session.add(brand)
            self.session.commit()
        return brand

    def store(self, brand: Brand, **overrides: Any) -> Store:
        assert brand.id is not None
        values = {"name": f"Store {next(_seq)}", "timezone": "Europe/Paris"} | overrides
        return cat.do_create_store(self.session, brand_id=brand.id, **values)

    def admin(self, brand: Brand, **overrides: Any) -> User:
        return do_create_user(
            self.session,
            email=overrides.pop("email", f"admin{next(_seq)}@ex.com"),
            name="Admin",
            password=self.PASSWORD,
            role=Role.BRAND_ADMIN,
            brand_id=brand.id,
        )

    def platform_admin(self) -> User:
        return do_create_user(
            self.session,
            email=f"root{next(_seq)}@ex.com",
            name="Root",
            password=self.PASSWORD,
            role=Role.PLATFORM_ADMIN,
            brand_id=None,
        )

    def associate(
        self, brand: Brand, store: Store | None = None, **overrides: Any
    ) -> AssociateProfile:
        store = store or self.store(brand)
        assert brand.id is not None and store.id is not None
        n = next(_seq)
        return do_create_associate(
            self.session,
            brand_id=brand.id,
            email=overrides.pop("email", f"assoc{n}@ex.com"),
            name=overrides.pop("name", f"Associate {n}"),
            password=self.PASSWORD,
            store_ids=[store.id],
            **overrides,
        )

    def user_of(self, profile: AssociateProfile) -> User:
        user = self.session.get(User, profile.user_id)
        assert user is not None
        # End the read: on SQLite an open transaction holds the write lock, and the
        # test's servers (other processes) must be able to write meanwhile.
        self.session.commit()
        return user

    def product(
        self, brand: Brand, *, stock: int = 5, sizes: tuple[str, ...] = ("M",), **overrides: Any
    ) -> Product:
        assert brand.id is not None
        n = next(_seq)
        spec = cat.ProductSpec(
            name=overrides.pop("name", f"Product {n}"),
            price_minor=overrides.pop("price_minor", 12000),
            currency=brand.currency,
            variants=[
                cat.VariantSpec(sku=f"SKU-{n}-{size}", size=size, colour="Black", stock=stock)
                for size in sizes
            ],
            **overrides,
        )
        return cat.do_create_product(self.session, brand_id=brand.id, spec=spec)

    def variants(self, product: Product) -> list[Variant]:
        assert product.id is not None
        return cat.variants_of(self.session, product.id)

    def show(self, brand: Brand, **overrides: Any) -> Show:
        assert brand.id is not None
        values: dict[str, Any] = {
            "title": f"Show {next(_seq)}",
            "starts_at": utcnow() + timedelta(days=1),
        } | overrides
        return lifecycle.do_create_show(self.session, brand_id=brand.id, **values)

    def live_session(self, show: Show) -> LiveSession:
        return lifecycle.live_session_for_show(self.session, show)

    def shopper(self, **overrides: Any) -> Shopper:
        shopper = Shopper(token=f"tok-{next(_seq)}-{id(self)}", **overrides)
        self.session.add(shopper)
        self.session.commit()
        return shopper

    def matrix_ids(
        self, brand: Brand, associate: AssociateProfile, product: Product, live: LiveSession
    ) -> dict[str, int | None]:
        """Resources of the areas for tests/test_access_matrix.py (one helper per area)."""
        from tests.accounts.matrix import account_ids
        from tests.booking.matrix import booking_ids
        from tests.service.matrix import service_ids

        ids = booking_ids(self.session, brand, associate)
        assert brand.id is not None
        ids |= account_ids(self.session, brand, associate)
        return ids | service_ids(self.session, brand.id, associate, ids.get("colleague_id"))
