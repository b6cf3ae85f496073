"""The brand admin sets when an idle associate is away and when the automatic answer goes."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlmodel import Session

from tests.conftest import login
from tests.factories import Factory

BASE = {
    "name": "Maison",
    "primary_color": "#112233",
    "accent_color": "#aa8844",
    "offline_message": "Back soon",
    "blocked_words": "",
    "checkout_url_template": "",
    "checkout_webhook_url": "",
}


def test_admin_sets_away_and_automatic_answer_times(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    login(client, factory.admin(brand).email)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="away_after_minutes"' in page and 'value="10"' in page
    bad = client.post("/admin/settings", data={**BASE, "away_after_minutes": "0"})
    assert bad.status_code == 422 and 'id="e-away_after_minutes"' in bad.get_data(as_text=True)
    bad = client.post("/admin/settings", data={**BASE, "auto_answer_after_seconds": "soon"})
    assert bad.status_code == 422
    saved = client.post(
        "/admin/settings",
        data={**BASE, "away_after_minutes": "5", "auto_answer_after_seconds": "60"},
    )
    assert saved.status_code == 302
    session.refresh(brand)
    assert (brand.away_after_minutes, brand.auto_answer_after_seconds) == (5, 60)
