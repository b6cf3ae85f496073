from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import Factory


def test_openapi_document_is_served(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/products/{product_id}" in doc["paths"]


def test_admin_creates_product(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    login(client, admin.email)
    body = {
        "name": "Silk scarf",
        "price_minor": 25000,
        "variants": [{"sku": "SC-1", "size": "OS", "colour": "Sky", "stock": 4}],
    }
    response = client.post(f"/api/brands/{brand.id}/products", json=body)
    assert response.status_code == 201, response.json
    assert response.json["stock"] == 4
    assert client.get(f"/api/products/{response.json['id']}").json["name"] == "Silk scarf"
