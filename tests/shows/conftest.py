"""A brand with its cast — the show's host, a colleague who does not host it, the brand's
admin — another brand's admin, a platform admin, a shopper; and shows put in any state
by the moves the lifecycle allows (never by writing the status)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.access import Actor, ActorKind
from sessions.clock import utcnow
from sessions.models import AssociateProfile, Brand, Show, ShowStatus, User
from sessions.shows import lifecycle
from tests.booking.conftest import smtp  # noqa: F401  (the real SMTP server, reused)
from tests.conftest import login
from tests.factories import Factory

S = ShowStatus
RECORDING = "http://relay.test/recordings/show.webm"


def staff_actor(user: User, profile: AssociateProfile | None = None) -> Actor:
    kinds = {"associate": ActorKind.ASSOCIATE, "brand_admin": ActorKind.BRAND_ADMIN}
    return Actor(
        kind=kinds.get(user.role.value, ActorKind.PLATFORM_ADMIN),
        name=user.name,
        user_id=user.id,
        brand_id=user.brand_id,
        associate_id=profile.id if profile else None,
    )


@dataclass
class Cast:
    brand: Brand
    host: AssociateProfile
    colleague: AssociateProfile
    actors: dict[str, Actor]  # host, colleague, admin, other_admin, platform, shopper, anonymous
    emails: dict[str, str]  # the staff among them, to sign in over HTTP
    session: Session
    factory: Factory

    def new_show(self, **overrides: Any) -> Show:
        values: dict[str, Any] = {
            "title": "The autumn edit",
            "starts_at": utcnow() + timedelta(days=1),
            "host_ids": [self.host.id],
        } | overrides
        return self.factory.show(self.brand, **values)

    def show_in(self, status: ShowStatus, **overrides: Any) -> Show:
        """A show brought to ``status`` by the lifecycle's own moves, as its people would."""
        db, host, admin = self.session, self.actors["host"], self.actors["admin"]
        show = self.new_show(draft=status is S.DRAFT, **overrides)
        if status is S.CANCELLED:
            lifecycle.do_cancel_show(db, admin, show)
        if status in (S.LIVE, S.ENDED, S.REPLAY_PUBLISHED, S.REPLAY_HIDDEN):
            lifecycle.do_start_show(db, host, show)
        if status in (S.ENDED, S.REPLAY_PUBLISHED, S.REPLAY_HIDDEN):
            lifecycle.do_end_show(db, host, show, replay_url=RECORDING)
        if status is S.REPLAY_PUBLISHED:
            lifecycle.do_publish_replay(db, admin, show)
        if status is S.REPLAY_HIDDEN:
            lifecycle.do_hide_replay(db, admin, show)
        assert show.status is status
        db.commit()  # end the read: on SQLite it would hold the write lock
        return show

    def client(self, app: Flask, who: str) -> FlaskClient:
        client = app.test_client()
        if who in self.emails:
            login(client, self.emails[who])
        elif who == "shopper":
            client.get("/")
        return client


@pytest.fixture
def cast(factory: Factory, session: Session) -> Cast:
    brand, other = factory.brand(name="Maison Aurèle"), factory.brand()
    store = factory.store(brand)
    host = factory.associate(brand, store, name="Camille")
    colleague = factory.associate(brand, store, name="Hugo")
    admin, other_admin, root = factory.admin(brand), factory.admin(other), factory.platform_admin()
    shopper = factory.shopper()
    users = {
        "host": (factory.user_of(host), host),
        "colleague": (factory.user_of(colleague), colleague),
        "admin": (admin, None),
        "other_admin": (other_admin, None),
        "platform": (root, None),
    }
    actors = {who: staff_actor(user, profile) for who, (user, profile) in users.items()}
    actors["shopper"] = Actor(kind=ActorKind.SHOPPER, shopper_id=shopper.id)
    actors["anonymous"] = Actor(kind=ActorKind.ANONYMOUS)
    session.commit()
    return Cast(
        brand=brand,
        host=host,
        colleague=colleague,
        actors=actors,
        emails={who: user.email for who, (user, _) in users.items()},
        session=session,
        factory=factory,
    )


@pytest.fixture
def show_in(cast: Cast) -> Callable[..., Show]:
    return cast.show_in
