"""Brand admin pages: access, forms that keep input and show errors per field, CSV import."""

from __future__ import annotations

import io
from datetime import timedelta

from flask.testing import FlaskClient
from PIL import Image
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.models import Brand, Product, Show, Variant, WeeklyHours
from tests.conftest import login
from tests.factories import Factory


def _admin(client: FlaskClient, factory: Factory) -> Brand:
    brand = factory.brand()
    login(client, factory.admin(brand).email)
    return brand


def _done(factory: Factory) -> None:
    """End the test session's read transaction (SQLite's BEGIN IMMEDIATE holds the lock)."""
    factory.session.commit()


def test_admin_needs_sign_in_and_the_right_role(client: FlaskClient, factory: Factory) -> None:
    response = client.get("/admin/products")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    brand = factory.brand()
    email = factory.user_of(factory.associate(brand)).email
    factory.session.commit()  # end the read: SQLite's BEGIN IMMEDIATE would block the app
    login(client, email)
    assert client.get("/admin/products").status_code == 403


def test_create_product_with_two_sizes(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = _admin(client, factory)
    response = client.post(
        "/admin/products/new",
        data={
            "name": "Cashmere coat",
            "price": "2450.00",
            "sku_0": "CC-S",
            "size_0": "S",
            "stock_0": "4",
            "sku_1": "CC-M",
            "size_1": "M",
            "stock_1": "2",
        },
    )
    assert response.status_code == 302
    product = session.exec(select(Product).where(Product.brand_id == brand.id)).one()
    assert product.price_minor == 245000
    sizes = {
        v.size: v.stock
        for v in session.exec(select(Variant).where(Variant.product_id == product.id))
    }
    assert sizes == {"S": 4, "M": 2}


def test_product_form_errors_sit_next_to_fields_and_keep_input(
    client: FlaskClient, factory: Factory
) -> None:
    _admin(client, factory)
    response = client.post("/admin/products/new", data={"name": "Kept name", "price": "abc"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Kept name"' in html
    assert 'id="e-price"' in html and "as a number" in html
    assert 'id="e-sku_0"' in html


def test_duplicate_sku_is_a_field_error(client: FlaskClient, factory: Factory) -> None:
    brand = _admin(client, factory)
    existing = factory.product(brand)
    sku = factory.variants(existing)[0].sku
    _done(factory)
    response = client.post("/admin/products/new", data={"name": "X", "price": "1", "sku_0": sku})
    assert response.status_code == 422
    assert "already used" in response.get_data(as_text=True)


def test_edit_stock_and_upload_picture_resized(
    client: FlaskClient, factory: Factory, session: Session, app
) -> None:
    brand = _admin(client, factory)
    product = factory.product(brand, stock=5)
    variant = factory.variants(product)[0]
    _done(factory)
    picture = io.BytesIO()
    Image.new("RGB", (3000, 2000), "navy").save(picture, "PNG")
    picture.seek(0)
    response = client.post(
        f"/admin/products/{product.id}",
        data={
            "name": product.name,
            "price": "99.50",
            f"stock_v{variant.id}": "7",
            "is_active": "1",
            "image": (picture, "big.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    session.refresh(variant)
    session.refresh(product)
    assert variant.stock == 7 and product.price_minor == 9950
    assert product.image_path and product.image_path.endswith(".jpg")
    with Image.open(f"{app.config['UPLOAD_DIR']}/{product.image_path}") as stored:
        assert max(stored.size) == 1200


def test_not_a_picture_is_refused_with_a_message(client: FlaskClient, factory: Factory) -> None:
    brand = _admin(client, factory)
    product = factory.product(brand)
    response = client.post(
        f"/admin/products/{product.id}",
        data={"name": product.name, "price": "1", "image": (io.BytesIO(b"nope"), "x.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not a picture" in response.get_data(as_text=True)


CSV_OK = "product,sku,price,size,stock\nTote,T-1,500.00,S,3\nTote,T-2,500.00,M,1\nBelt,B-1,120,,9\n"
CSV_BAD = "product,sku,price,size,stock\nTote,T-1,500.00,S,3\nBelt,B-1,cheap,,x\n"


def test_csv_import_preview_then_confirm(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = _admin(client, factory)
    preview = client.post(
        "/admin/products/import",
        data={"csv_file": (io.BytesIO(CSV_OK.encode()), "cat.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    assert "Import 3 rows" in preview.get_data(as_text=True)
    assert session.exec(select(Product).where(Product.brand_id == brand.id)).all() == []
    _done(factory)
    done = client.post("/admin/products/import", data={"csv_text": CSV_OK, "confirm": "1"})
    assert done.status_code == 302
    names = sorted(
        p.name for p in session.exec(select(Product).where(Product.brand_id == brand.id))
    )
    assert names == ["Belt", "Tote"]


def test_csv_import_with_errors_imports_nothing(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = _admin(client, factory)
    response = client.post("/admin/products/import", data={"csv_text": CSV_BAD, "confirm": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 3" in html and "price" in html and "stock" in html
    assert session.exec(select(Product).where(Product.brand_id == brand.id)).all() == []


def test_schedule_show_with_product_and_cancel(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = _admin(client, factory)
    product = factory.product(brand)
    host = factory.associate(brand)
    start = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/admin/shows/new",
        data={
            "title": "Spring",
            "starts_at": start,
            "timezone": "UTC",
            "duration_minutes": "45",
            "product_ids": [str(product.id)],
            "host_ids": [str(host.id)],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    show = session.exec(select(Show).where(Show.brand_id == brand.id)).one()
    _done(factory)
    assert client.post(f"/admin/shows/{show.id}/cancel").status_code == 302
    session.refresh(show)
    assert show.status.value == "cancelled"


def test_show_in_the_past_is_a_field_error(client: FlaskClient, factory: Factory) -> None:
    _admin(client, factory)
    response = client.post(
        "/admin/shows/new",
        data={
            "title": "Late",
            "starts_at": "2001-01-01T10:00",
            "timezone": "UTC",
            "duration_minutes": "45",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-starts_at"' in html and 'value="Late"' in html


def test_settings_validate_colours_and_save(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = _admin(client, factory)
    base = {
        "name": "New name",
        "primary_color": "#112233",
        "accent_color": "#aa8844",
        "offline_message": "Back soon",
        "blocked_words": "bad\nworse\n",
        "checkout_url_template": "",
        "checkout_webhook_url": "",
    }
    bad = client.post("/admin/settings", data={**base, "primary_color": "blue"})
    assert bad.status_code == 422 and 'id="e-primary_color"' in bad.get_data(as_text=True)
    assert client.post("/admin/settings", data=base).status_code == 302
    session.refresh(brand)
    assert (brand.name, brand.primary_color, brand.blocked_words) == (
        "New name",
        "#112233",
        "bad\nworse",
    )


def test_store_associate_and_weekly_hours(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = _admin(client, factory)
    assert (
        client.post("/admin/stores", data={"name": "Rue X", "timezone": "Mars/Base"}).status_code
        == 422
    )
    assert (
        client.post("/admin/stores", data={"name": "Rue X", "timezone": "Europe/Paris"}).status_code
        == 302
    )
    store = factory.store(brand)
    response = client.post(
        "/admin/associates",
        data={
            "name": "Anna",
            "email": "anna@ex.com",
            "password": "long-enough-pass",
            "role": "associate",
            "store_ids": [str(store.id)],
            "languages": "en,fr",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    profile = factory.associate(brand, store)
    data = {
        "display_name": profile.display_name,
        "languages": "en",
        "specialities": "bags",
        "store_ids": [str(store.id)],
        "day_0": "0",
        "store_0": str(store.id),
        "start_0": "09:00",
        "end_0": "12:00",
        "day_1": "0",
        "store_1": str(store.id),
        "start_1": "11:00",
        "end_1": "15:00",
    }
    overlap = client.post(f"/admin/associates/{profile.id}", data=data)
    assert overlap.status_code == 422 and "overlap" in overlap.get_data(as_text=True)
    data["start_1"] = "13:00"
    assert client.post(f"/admin/associates/{profile.id}", data=data).status_code == 302
    rows = session.exec(select(WeeklyHours).where(WeeklyHours.associate_id == profile.id)).all()
    assert len(rows) == 2
