from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.factories import Factory
from tests.privacy.world import Person, World, make_world


@pytest.fixture
def world(app: Flask, factory: Factory, session: Session) -> World:
    return make_world(factory, session, Path(app.config["UPLOAD_DIR"]))


def browser_of(app: Flask, person: Person) -> FlaskClient:
    """A browser whose cookie carries this shopper's guest key (as after their first visit)."""
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["shopper_token"] = person.shopper.token
        cookie.permanent = True
    return client
