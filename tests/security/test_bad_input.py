"""Input a client controls gets a 4xx with words (JSON for the API, a page for forms).

Each of these was a 500 before: a deeply nested JSON body, a picture declaring
30000×30000 pixels, prices such as 1E+30 / NaN / Infinity, a malformed booking
slot, a huge stock figure in a CSV, dates at the edge of the calendar.
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.models import Appointment, Brand, Product
from tests.booking.conftest import staff
from tests.conftest import login
from tests.factories import Factory


@pytest.fixture
def admin(app: Flask, factory: Factory) -> tuple[FlaskClient, Brand]:
    brand = factory.brand()
    factory.store(brand)
    client = app.test_client()
    login(client, factory.admin(brand).email)
    return client, brand


def assert_json_error(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.data[:300]
    body = response.json
    assert isinstance(body, dict) and body["error"] and body["message"]
    return body


# --- JSON bodies --------------------------------------------------------------------

NESTED = [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"variant_id": ' + "[" * 40 + "]" * 40 + "}",
]


def test_deeply_nested_json_is_a_400(client: FlaskClient) -> None:
    for body in NESTED:
        response = client.post("/api/bag/lines", data=body, content_type="application/json")
        assert "deeply" in str(assert_json_error(response, 400)["message"])
    # Numbers JSON should not hold are refused too (they were already).
    for raw in (
        '{"variant_id": NaN}',
        '{"variant_id": 1e400}',
        '{"variant_id": ' + "9" * 5000 + "}",
    ):
        response = client.post("/api/bag/lines", data=raw, content_type="application/json")
        assert 400 <= response.status_code < 500, (raw[:40], response.status_code)


# --- prices -------------------------------------------------------------------------

BAD_PRICES = ["1E+30", "NaN", "Infinity", "-Infinity", "sNaN", "1e-30", "99999999999"]


def test_admin_product_form_refuses_bad_prices(
    admin: tuple[FlaskClient, Brand], session: Session
) -> None:
    client, _ = admin
    for price in BAD_PRICES:
        response = client.post(
            "/admin/products/new",
            data={"name": "Scarf", "price": price, "sku_0": "SC-1", "stock_0": "1"},
        )
        assert response.status_code == 422, (price, response.data[:300])
        assert 'id="e-price"' in response.get_data(as_text=True)
    assert session.exec(select(Product)).first() is None


def test_api_refuses_prices_out_of_range(admin: tuple[FlaskClient, Brand]) -> None:
    client, brand = admin
    url = f"/api/brands/{brand.id}/products"
    for price in ("1E+30", "NaN", "Infinity", "1e400", "9000000000"):
        raw = '{"name": "Scarf", "price_minor": ' + price + "}"
        response = client.post(url, data=raw, content_type="application/json")
        assert_json_error(response, 422)


CSV_CASES = [
    ("price", "1E+30"),
    ("price", "NaN"),
    ("price", "Infinity"),
    ("variant_price", "-Infinity"),
    ("stock", "99999999999999999999"),
    ("stock", "²"),
    ("stock", "٣"),
]


def test_csv_import_refuses_bad_numbers(admin: tuple[FlaskClient, Brand], session: Session) -> None:
    client, _ = admin
    for column, value in CSV_CASES:
        row = {
            "product": "Scarf",
            "sku": "SC-1",
            "price": "10.00",
            "variant_price": "",
            "stock": "1",
        }
        row[column] = value
        text = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
        response = client.post("/admin/products/import", data={"csv_text": text})
        assert response.status_code == 422, (column, value, response.data[:300])
        assert f"Line 2, <strong>{column}</strong>" in response.get_data(as_text=True)
    assert session.exec(select(Product)).first() is None


def test_csv_import_with_a_field_over_the_csv_limit_is_refused(
    admin: tuple[FlaskClient, Brand],
) -> None:
    client, _ = admin
    text = 'product,sku,price\n"' + "x" * 200_000 + '",SC-1,10.00\n'
    response = client.post("/admin/products/import", data={"csv_text": text})
    assert response.status_code == 422 and b"CSV" in response.data


# --- pictures -----------------------------------------------------------------------


def png_declaring(width: int, height: int) -> bytes:
    """A valid, tiny PNG whose header declares width×height pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_logo_declaring_too_many_pixels_is_refused(admin: tuple[FlaskClient, Brand]) -> None:
    client, _ = admin
    for size in ((30_000, 30_000), (10_000, 10_000)):
        _post_logo(client, png_declaring(*size))


def _post_logo(client: FlaskClient, data: bytes) -> None:
    form = {
        "name": "Brand",
        "primary_color": "#112233",
        "accent_color": "#445566",
        "offline_message": "Back soon",
        "blocked_words": "",
        "checkout_url_template": "",
        "checkout_webhook_url": "",
        "logo": (io.BytesIO(data), "logo.png"),
    }
    response = client.post("/admin/settings", data=form, content_type="multipart/form-data")
    assert response.status_code == 422, response.data[:300]
    assert "too large" in response.get_data(as_text=True)


def test_product_picture_bomb_is_refused(admin: tuple[FlaskClient, Brand]) -> None:
    client, _ = admin
    response = client.post(
        "/admin/products/new",
        data={
            "name": "Scarf",
            "price": "10.00",
            "sku_0": "SC-1",
            "image": (io.BytesIO(png_declaring(30_000, 30_000)), "p.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.data[:300]
    assert "too large" in response.get_data(as_text=True)


# --- booking ------------------------------------------------------------------------


MALFORMED_SLOTS = [
    "x",
    "a|b|2030-01-01T10:00:00+00:00",
    "1|1|nope",
    "1|1|2030-01-01T10:00:00",
    "99999999999999999999|1|2030-01-01T10:00:00+00:00",
    "1|1|9999-12-31T23:59:59+00:00",
    "1|2|3|4",
]


def test_booking_page_refuses_malformed_slots(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    team = staff(factory, session)
    for slot in MALFORMED_SLOTS:
        response = client.post(
            f"/b/{team.brand.slug}/book",
            data={"slot": slot, "name": "Camille", "email": "c@example.com"},
        )
        assert 400 <= response.status_code < 500, (slot, response.data[:300])
        assert b"<html" in response.data.lower() and b"Something went wrong" not in response.data
    assert session.exec(select(Appointment)).first() is None


def test_booking_api_refuses_dates_off_the_calendar(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    team = staff(factory, session)
    for starts_at in (
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+00:00",
        "2030-13-01T00:00Z",
    ):
        body = {
            "associate_id": team.anna.id,
            "store_id": team.store.id,
            "starts_at": starts_at,
            "name": "Camille",
            "email": "c@example.com",
        }
        response = client.post(f"/api/brands/{team.brand.id}/appointments", json=body)
        assert 400 <= response.status_code < 500, (starts_at, response.data[:300])
        availability = client.get(
            f"/api/brands/{team.brand.id}/availability",
            query_string={"start": starts_at, "days": 14},
        )
        assert 400 <= availability.status_code < 500, (starts_at, availability.status_code)


def test_shows_far_in_the_future_are_refused(admin: tuple[FlaskClient, Brand]) -> None:
    client, brand = admin
    response = client.post(
        f"/api/brands/{brand.id}/shows",
        json={"title": "Late", "starts_at": "9999-12-31T23:59:59+00:00"},
    )
    assert 400 <= response.status_code < 500, response.data[:300]
    soon = (utcnow() + timedelta(days=2)).isoformat()
    assert (
        client.post(
            f"/api/brands/{brand.id}/shows", json={"title": "Soon", "starts_at": soon}
        ).status_code
        == 201
    )


def test_a_file_url_webhook_is_a_422(admin: tuple[FlaskClient, Brand]) -> None:
    client, brand = admin
    response = client.patch(
        f"/api/brands/{brand.id}", json={"checkout_webhook_url": "file:///etc/passwd"}
    )
    assert_json_error(response, 422)


def test_a_nul_character_is_refused_wherever_text_comes_in(
    admin: tuple[FlaskClient, Brand], session: Session
) -> None:
    """PostgreSQL cannot store U+0000 (the driver raised, a 500); SQLite kept it silently."""
    client, brand = admin
    api = client.post(f"/api/brands/{brand.id}/products", json={"name": "\x00", "price_minor": 1})
    assert assert_json_error(api, 400)["error"] == "bad_text"
    key = client.patch(f"/api/brands/{brand.id}", json={"name": "ok", "x\x00": 1})
    assert key.status_code == 400
    query = client.get(f"/api/brands/{brand.id}/products", query_string={"q": "a\x00"})
    assert query.status_code == 400
    form = client.post("/admin/products/new", data={"name": "Sc\x00arf", "price": "1.00"})
    assert form.status_code == 400 and b"NUL" in form.data
    assert session.exec(select(Product)).first() is None
