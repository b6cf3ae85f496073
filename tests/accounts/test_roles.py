"""Roles changed by the brand admin (associate ↔ brand admin) through sessions/access.py;
a brand always keeps one active admin; sign-in lands a brand admin on the brand's admin,
an associate on their console, honouring a safe `next`."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.models import AssociateProfile, Role, User
from tests.conftest import login
from tests.factories import Factory


def _kind(client: FlaskClient) -> str:
    return str(client.get("/whoami").get_json()["kind"])


def _landing(app: Flask, email: str, next_url: str | None = None) -> str:
    data = {"email": email, "password": Factory.PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    response = app.test_client().post("/login", data=data)
    assert response.status_code == 302
    return response.headers["Location"]


def test_landing_after_sign_in(app: Flask, factory: Factory) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    associate = factory.user_of(factory.associate(brand))
    assert _landing(app, admin.email) == "/admin/"
    assert _landing(app, associate.email) == "/console/"
    assert _landing(app, associate.email, "/console/today") == "/console/today"
    assert _landing(app, admin.email, "//evil.example/x") == "/admin/"  # not a safe next
    assert _landing(app, admin.email, "https://evil.example/") == "/admin/"


def test_the_admin_promotes_and_demotes(app: Flask, factory: Factory, session: Session) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    associate = factory.user_of(factory.associate(brand))
    boss, worker = app.test_client(), app.test_client()
    login(boss, admin.email)
    login(worker, associate.email)

    url = f"/admin/people/{associate.id}/role"
    assert boss.post(url, data={"role": "brand_admin"}).status_code == 302
    assert _kind(worker) == "anonymous"  # sessions end: the new role holds everywhere at once
    login(worker, associate.email)
    assert _kind(worker) == "brand_admin"
    assert worker.get("/admin/people").status_code == 200

    assert boss.post(url, data={"role": "associate"}).status_code == 302
    login(worker, associate.email)
    assert _kind(worker) == "associate"
    assert boss.post(url, data={"role": "platform_admin"}).status_code == 422

    demoted = factory.admin(brand)  # an admin with no profile becomes an associate with one
    assert (
        boss.post(f"/admin/people/{demoted.id}/role", data={"role": "associate"}).status_code == 302
    )
    assert session.exec(
        select(AssociateProfile).where(AssociateProfile.user_id == demoted.id)
    ).one()
    session.commit()


def test_a_brand_keeps_an_active_admin(app: Flask, factory: Factory, session: Session) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    boss = app.test_client()
    login(boss, admin.email)
    alone = boss.post(f"/admin/people/{admin.id}/role", data={"role": "associate"})
    assert alone.status_code == 409 and b"at least one active brand admin" in alone.data
    assert _kind(boss) == "brand_admin"

    operator = app.test_client()
    login(operator, factory.platform_admin().email)
    last = operator.post(f"/admin/people/{admin.id}/active?brand={brand.id}", data={"active": "0"})
    assert last.status_code == 409

    second = factory.admin(brand)
    assert (
        boss.post(f"/admin/people/{admin.id}/role", data={"role": "associate"}).status_code == 302
    )
    assert _kind(boss) == "associate"  # their own change: this browser carries on, demoted
    user = session.get(User, admin.id)
    assert user is not None
    session.refresh(user)
    assert user.role is Role.ASSOCIATE
    session.commit()
    other = app.test_client()
    login(other, second.email)
    assert other.post(f"/admin/people/{second.id}/active", data={"active": "0"}).status_code == 403


def test_only_the_brands_admin_changes_roles(app: Flask, factory: Factory) -> None:
    brand = factory.brand()
    associate = factory.user_of(factory.associate(brand))
    colleague = factory.user_of(factory.associate(brand))
    outsider, worker = app.test_client(), app.test_client()
    login(outsider, factory.admin(factory.brand()).email)
    login(worker, colleague.email)
    url = f"/admin/people/{associate.id}/role"
    assert outsider.post(url, data={"role": "brand_admin"}).status_code == 404
    assert worker.post(url, data={"role": "brand_admin"}).status_code == 403
    api = worker.put(f"/api/users/{associate.id}/role", json={"role": "brand_admin"})
    assert api.status_code == 403
