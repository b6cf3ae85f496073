"""The audit log: each staff action on prices, stock, settings, sanctions and accounts
writes one entry, in the same transaction as the change (a refused change writes none);
the brand's admin reads it, filtered and paginated, and nobody else does."""

from __future__ import annotations

import json

from flask import Flask
from sqlmodel import Session, col, select

from sessions.access import Actor, ActorKind
from sessions.live import do_sanction, do_unmute
from sessions.models import AuditEntry, SanctionKind, User
from sessions.privacy import audit
from tests.conftest import login
from tests.factories import Factory


def entries(session: Session, brand_id: int | None) -> list[AuditEntry]:
    rows = list(
        session.exec(
            select(AuditEntry).where(AuditEntry.brand_id == brand_id).order_by(col(AuditEntry.id))
        ).all()
    )
    session.commit()
    return rows


def test_every_audited_action_writes_its_entry(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    assert brand.id is not None
    product = factory.product(brand, price_minor=50000, stock=3)
    variant = factory.variants(product)[0]
    associate = factory.associate(brand)
    host_user = factory.user_of(associate)
    admin_user = factory.admin(brand)
    admin = app.test_client()
    login(admin, admin_user.email)
    start = len(entries(session, brand.id))

    assert (
        admin.patch(f"/api/products/{product.id}", json={"price_minor": 45000}).status_code == 200
    )
    assert admin.patch(f"/api/variants/{variant.id}", json={"stock": 7}).status_code == 200
    assert (
        admin.patch(f"/api/variants/{variant.id}", json={"price_minor": 44000}).status_code == 200
    )
    assert (
        admin.patch(f"/api/brands/{brand.id}", json={"chat_retention_days": 90}).status_code == 200
    )
    assert admin.post(f"/api/brands/{brand.id}/webhook-secret").status_code == 200
    # Refused: no entry (the change and its entry are one transaction).
    assert admin.patch(f"/api/variants/{variant.id}", json={"stock": -1}).status_code == 422
    assert (
        admin.post(f"/admin/people/{host_user.id}/active", data={"active": "0"}).status_code == 302
    )

    show = factory.show(brand, host_ids=[associate.id], product_ids=[product.id])
    live = factory.live_session(show)
    shopper = factory.shopper(name="Muted Person")
    host = Actor(ActorKind.ASSOCIATE, name="Host", user_id=admin_user.id, brand_id=brand.id)
    do_sanction(session, host, live, shopper.id or 0, SanctionKind.MUTE, 5)
    do_unmute(session, host, live, shopper.id or 0)
    do_sanction(session, host, live, shopper.id or 0, SanctionKind.BAN)

    made = entries(session, brand.id)[start:]
    assert [(e.action, e.target) for e in made] == [
        ("price.set", f"product:{product.id}"),
        ("stock.set", f"variant:{variant.id}"),
        ("price.set", f"variant:{variant.id}"),
        ("settings.update", f"brand:{brand.id}"),
        ("webhook_secret.rotate", f"brand:{brand.id}"),
        ("user.deactivate", f"user:{host_user.id}"),
        ("sanction.mute", f"shopper:{shopper.id}"),
        ("sanction.unmute", f"shopper:{shopper.id}"),
        ("sanction.ban", f"shopper:{shopper.id}"),
    ]
    assert json.loads(made[0].detail) == {"price_minor": [50000, 45000]}
    assert json.loads(made[1].detail) == {"stock": [3, 7]}
    assert json.loads(made[3].detail) == {"chat_retention_days": [365, 90]}
    assert {e.actor_user_id for e in made[:6]} == {admin_user.id}
    assert made[0].actor_name == "Admin"
    session.expire_all()
    secret = session.get(type(brand), brand.id)
    assert secret is not None and secret.webhook_secret
    assert all(secret.webhook_secret not in e.detail for e in made)  # never the secret
    # Nothing names the muted shopper but their id.
    assert all("Muted Person" not in e.detail for e in made)
    session.commit()


def test_the_admin_page_lists_filters_and_pages(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand, other = factory.brand(), factory.brand()
    admin_user = factory.admin(brand)
    actor = Actor(ActorKind.BRAND_ADMIN, name="Admin", user_id=admin_user.id, brand_id=brand.id)
    for n in range(55):
        audit.record(session, actor, "stock.set", f"variant:{n}", {"stock": [n, n + 1]})
    audit.record(session, actor, "price.set", "variant:999", {"price_minor": [1, 2]})
    audit.record(session, None, "price.set", "variant:1000", brand_id=other.id)
    session.commit()
    admin = app.test_client()
    login(admin, admin_user.email)

    first = admin.get("/admin/audit").get_data(as_text=True)
    # 55 + 1, and the admin's own account made by user.create
    assert first.count("data-audit-row") == 50 and "57 entries" in first
    assert 'rel="next"' in first and "variant:1000" not in first  # another brand's: never
    second = admin.get("/admin/audit?page=2").get_data(as_text=True)
    assert second.count("data-audit-row") == 7 and 'rel="prev"' in second
    prices = admin.get("/admin/audit?action=price.set").get_data(as_text=True)
    assert prices.count("data-audit-row") == 1 and "1 → 2" in prices
    assert admin.get("/admin/audit?action=nonsense").status_code == 422
    api = admin.get(f"/api/brands/{brand.id}/audit?action=stock.set&page=2").get_json()
    assert (api["total"], api["pages"], len(api["entries"])) == (55, 2, 5)

    outsider = app.test_client()
    login(outsider, factory.admin(other).email)
    assert outsider.get(f"/api/brands/{brand.id}/audit").status_code == 403
    associate = app.test_client()
    login(associate, factory.user_of(factory.associate(brand)).email)
    assert associate.get("/admin/audit").status_code == 403
    assert app.test_client().get("/admin/audit").status_code == 302  # to the sign-in page
    session.commit()


def test_record_is_the_hook_for_other_areas(session: Session, factory: Factory) -> None:
    """sessions/accounts.py (invitations, roles, 2FA) writes with the same call."""
    brand = factory.brand()
    admin_user = factory.admin(brand)
    staff = session.exec(select(User).where(User.id == admin_user.id)).one()
    actor = Actor(ActorKind.BRAND_ADMIN, name="Admin", user_id=staff.id, brand_id=brand.id)
    audit.record(
        session, actor, "role.change", f"user:{staff.id}", {"role": ["associate", "brand_admin"]}
    )
    session.rollback()  # not committed by the caller: no entry
    assert [e.action for e in entries(session, brand.id)] == ["user.create"]


def test_account_actions_are_in_the_log(session: Session, factory: Factory) -> None:
    """Role changes are written with the change; invitations through the accounts hook."""
    from sessions.accounts import do_set_role
    from sessions.accounts.invitations import do_invite
    from sessions.models import Role

    brand = factory.brand()
    admin_user = factory.admin(brand)
    other = factory.user_of(factory.associate(brand))
    actor = Actor(ActorKind.BRAND_ADMIN, name="Admin", user_id=admin_user.id, brand_id=brand.id)
    do_set_role(session, actor, session.get(User, other.id), role=Role.BRAND_ADMIN)
    do_invite(
        session,
        actor,
        brand_id=brand.id,
        email="new@example.com",
        name="New",
        role=Role.BRAND_ADMIN,
        secret="s" * 32,
    )
    session.commit()
    got = {e.action: e for e in entries(session, brand.id)}
    assert json.loads(got["user.role"].detail) == {"role": ["associate", "brand_admin"]}
    assert got["user.role"].target == f"user:{other.id}"
    assert got["account.invited"].actor_name == "Admin"
