"""The analytics pages and exports: brand admins only, clear errors, CSV safe to open."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.analytics.seed import seed_show
from tests.conftest import login
from tests.factories import Factory

START = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)
PERIOD = "start=2027-03-01&end=2027-03-01"


def test_csv_exports_match_the_page_and_never_start_a_formula(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    seeded = seed_show(session, factory, brand, START)
    seeded.show.title = "=HYPERLINK(evil)"
    session.add(seeded.show)
    session.commit()
    admin = factory.admin(brand)
    http = app.test_client()
    login(http, admin.email)
    page = http.get(f"/admin/analytics?{PERIOD}")
    assert page.status_code == 200 and "Revenue by show" in page.text
    shows = http.get(f"/admin/analytics/shows.csv?{PERIOD}")
    assert shows.mimetype == "text/csv" and "attachment" in shows.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(shows.text)))
    assert rows[1][0] == "'=HYPERLINK(evil)" and rows[1][2] == "3"
    minutes = http.get(f"/admin/analytics/shows/{seeded.show.id}/minutes.csv")
    assert len(list(csv.reader(io.StringIO(minutes.text)))) == 31


def test_only_the_brand_admin_reads_the_brand_figures(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand, other = factory.brand(), factory.brand()
    seeded = seed_show(session, factory, brand, START)
    associate = factory.associate(brand)
    associate_email = factory.user_of(associate).email
    other_admin = factory.admin(other).email
    anonymous = app.test_client()
    assert anonymous.get("/admin/analytics").status_code == 302  # to the sign-in page
    assert anonymous.get(f"/api/shows/{seeded.show.id}/analytics").status_code == 401
    staff = app.test_client()
    login(staff, associate_email)
    assert staff.get("/admin/analytics").status_code == 403
    assert staff.get(f"/api/brands/{brand.id}/analytics").status_code == 403
    theirs = app.test_client()
    login(theirs, other_admin)
    assert theirs.get(f"/admin/analytics/shows/{seeded.show.id}").status_code == 404
    assert theirs.get(f"/api/shows/{seeded.show.id}/analytics").status_code == 403
    mine = factory.associate(other)
    assert theirs.get(f"/api/associates/{associate.id}/analytics").status_code == 403
    assert theirs.get(f"/api/associates/{mine.id}/analytics").status_code == 200


def test_bad_periods_and_tables_get_a_clear_4xx(app: Flask, factory: Factory) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    http: FlaskClient = app.test_client()
    login(http, admin.email)
    assert http.get("/admin/analytics?start=yesterday").status_code == 422
    assert http.get("/admin/analytics?start=2027-03-02&end=2027-03-01").status_code == 422
    assert http.get("/admin/analytics/secrets.csv").status_code == 404
    api = http.get(f"/api/brands/{brand.id}/analytics?start=2020-01-01&end=2027-01-01")
    assert api.status_code == 422 and "366" in api.json["message"]


def test_the_influence_window_is_a_brand_setting(app: Flask, factory: Factory) -> None:
    brand = factory.brand()
    assert brand.attribution_window_days == 7
    admin = factory.admin(brand)
    http = app.test_client()
    login(http, admin.email)
    saved = http.post("/admin/analytics/window", data={"attribution_window_days": "14"})
    assert saved.status_code == 302
    assert 'value="14"' in http.get("/admin/analytics").text
    for bad in ("0", "91", "a week"):
        refused = http.post("/admin/analytics/window", data={"attribution_window_days": bad})
        assert refused.status_code == 422 and "1 to 90" in refused.text
    staff = app.test_client()
    login(staff, factory.user_of(factory.associate(brand)).email)
    assert (
        staff.post("/admin/analytics/window", data={"attribution_window_days": "30"}).status_code
        == 403
    )


def test_an_associate_reads_their_own_figures_in_the_console(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    associate = factory.associate(brand, name="Inès")
    http = app.test_client()
    login(http, factory.user_of(associate).email)
    page = http.get("/console/figures")
    assert page.status_code == 200 and "Inès" in page.text and "Attributed revenue" in page.text
    rows = list(csv.reader(io.StringIO(http.get("/console/figures.csv").text)))
    assert rows[0] == ["Figure", "Value"] and rows[1] == ["Chats", "0"]
    assert ["Consultations", "0"] in rows
    admin = app.test_client()
    login(admin, factory.admin(brand).email)
    assert admin.get("/console/figures").status_code == 404  # the team is in Analytics
