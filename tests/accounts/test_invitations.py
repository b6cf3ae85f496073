"""Invite → set password: a brand admin invites by e-mail (real SMTP); the single-use,
expiring link's page changes nothing, its POST makes the account (associate with their
stores, or brand admin) and signs that browser in on the right page. No admin types a
password; the token is stored only hashed; pending invitations can be resent or revoked."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.accounts.tokens import digest
from sessions.models import AssociateProfile, AssociateStore, Role, StaffInvitation, User
from tests.accounts.conftest import SmtpServer, link_path
from tests.conftest import login
from tests.factories import Factory

PASSWORD = "a sentence to remember"


def _kind(client: FlaskClient) -> str:
    return str(client.get("/whoami").get_json()["kind"])


def _invite(boss: FlaskClient, **form: object) -> int:
    data = {"name": "Léa Roux", "email": "Lea@Example.com", "role": "associate", **form}
    return boss.post("/admin/associates", data=data).status_code


def test_invite_then_set_password_signs_in_on_the_console(
    app: Flask, factory: Factory, smtp: SmtpServer, session: Session
) -> None:
    app.config.update(smtp.config)
    brand = factory.brand()
    store = factory.store(brand)
    boss = app.test_client()
    login(boss, factory.admin(brand).email)
    assert _invite(boss, store_ids=[str(store.id)], languages="fr,en") == 302

    mail = smtp.inbox.wait_for(1)[0]  # sent after the commit, by the outbox
    assert mail["To"].addresses[0].addr_spec == "lea@example.com"
    assert brand.name in mail["Subject"]
    path = link_path(mail)
    invitation = session.exec(select(StaffInvitation)).one()
    session.commit()  # end the read: on SQLite it would hold the write lock
    token = path.rsplit("/", 1)[1]
    assert invitation.token_hash == digest(token)  # the token itself is stored nowhere
    assert token not in repr(invitation.model_dump())
    assert b"lea@example.com" in boss.get("/admin/people").data  # pending, listed

    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200 and b'autocomplete="new-password"' in page.data
    assert session.exec(select(User).where(User.email == "lea@example.com")).first() is None
    session.commit()  # the GET made nothing (and the read ends)

    short = newcomer.post(path, data={"password": "short"})
    assert short.status_code == 422 and b"10 characters" in short.data
    done = newcomer.post(path, data={"password": PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/console/")
    assert _kind(newcomer) == "associate"

    user = session.exec(select(User).where(User.email == "lea@example.com")).one()
    profile = session.exec(
        select(AssociateProfile).where(AssociateProfile.user_id == user.id)
    ).one()
    assert profile.languages == "fr,en" and user.role is Role.ASSOCIATE
    stores = session.exec(
        select(AssociateStore.store_id).where(AssociateStore.associate_id == profile.id)
    ).all()
    assert list(stores) == [store.id]
    session.commit()

    assert app.test_client().post(path, data={"password": PASSWORD}).status_code == 410
    assert app.test_client().get(path).status_code == 410  # used: says so, signs nobody in
    assert app.test_client().get("/invitation/" + "0" * 64).status_code == 404
    login(app.test_client(), "lea@example.com", PASSWORD)  # the password they chose
    assert b"No invitation waiting" in boss.get("/admin/people").data


def test_a_brand_admin_invited_lands_on_the_brands_admin(
    app: Flask, factory: Factory, smtp: SmtpServer
) -> None:
    app.config.update(smtp.config)
    brand = factory.brand()
    boss = app.test_client()
    login(boss, factory.admin(brand).email)
    assert _invite(boss, role="brand_admin", email="second@example.com") == 302
    path = link_path(smtp.inbox.wait_for(1)[0])
    newcomer = app.test_client()
    done = newcomer.post(path, data={"password": PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/")
    assert _kind(newcomer) == "brand_admin"


def test_no_admin_typed_password_and_an_e_mail_in_use_is_said(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    store = factory.store(brand)
    admin = factory.admin(brand)
    boss = app.test_client()
    login(boss, admin.email)
    assert b'name="password"' not in boss.get("/admin/people").data
    taken = boss.post(
        "/admin/associates",
        data={"name": "X", "email": admin.email, "role": "associate", "store_ids": [str(store.id)]},
    )
    assert taken.status_code == 422
    assert b"already belongs to a staff account" in taken.data
    assert _invite(boss, store_ids=[str(store.id)]) == 302
    twice = boss.post(
        "/admin/associates",
        data={
            "name": "L",
            "email": "lea@example.com",
            "role": "associate",
            "store_ids": [str(store.id)],
        },
    )
    assert twice.status_code == 422 and b"already waiting" in twice.data
    assert _invite(boss) == 422  # an associate needs a store
    api = boss.post(
        f"/api/brands/{brand.id}/associates",
        json={"email": "api@example.com", "name": "Api", "password": "typed-by-the-admin"},
    )
    assert api.status_code == 422  # the API has no password field any more


def test_resend_replaces_the_link_and_revoke_ends_it(
    app: Flask, factory: Factory, smtp: SmtpServer, session: Session
) -> None:
    app.config.update(smtp.config)
    brand = factory.brand()
    boss = app.test_client()
    login(boss, factory.admin(brand).email)
    assert _invite(boss, role="brand_admin") == 302
    first = link_path(smtp.inbox.wait_for(1)[0])
    invitation = session.exec(select(StaffInvitation)).one()
    session.commit()  # end the read

    assert boss.post(f"/admin/invitations/{invitation.id}/resend").status_code == 302
    second = link_path(smtp.inbox.wait_for(2)[1])
    assert second != first
    assert app.test_client().get(first).status_code == 404  # the old link is no link
    assert app.test_client().get(second).status_code == 200

    assert boss.post(f"/admin/invitations/{invitation.id}/revoke").status_code == 302
    revoked = app.test_client().post(second, data={"password": PASSWORD})
    assert revoked.status_code == 410 and b"withdrawn" in revoked.data
    assert boss.post(f"/admin/invitations/{invitation.id}/resend").status_code == 409

    other = app.test_client()
    login(other, factory.admin(factory.brand()).email)
    assert other.post(f"/admin/invitations/{invitation.id}/revoke").status_code == 404


def test_an_expired_invitation_says_so(
    app: Flask, factory: Factory, smtp: SmtpServer, session: Session
) -> None:
    app.config.update(smtp.config)
    brand = factory.brand()
    boss = app.test_client()
    login(boss, factory.admin(brand).email)
    assert _invite(boss, role="brand_admin") == 302
    path = link_path(smtp.inbox.wait_for(1)[0])
    invitation = session.exec(select(StaffInvitation)).one()
    invitation.expires_at = invitation.created_at - timedelta(seconds=1)
    session.add(invitation)
    session.commit()
    late = app.test_client().post(path, data={"password": PASSWORD})
    assert late.status_code == 410 and b"expired" in late.data
    assert b"expired" in boss.get("/admin/people").data  # the admin sees it, may resend


def test_the_api_invites_without_a_password(app: Flask, factory: Factory, smtp: SmtpServer) -> None:
    app.config.update(smtp.config)
    brand = factory.brand()
    store = factory.store(brand)
    boss = app.test_client()
    login(boss, factory.admin(brand).email)
    made = boss.post(
        f"/api/brands/{brand.id}/associates",
        json={"email": "api@example.com", "name": "Api", "store_ids": [store.id]},
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["state"] == "ready" and made.get_json()["role"] == "associate"
    assert link_path(smtp.inbox.wait_for(1)[0]).startswith("/invitation/")
