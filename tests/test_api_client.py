"""A client generated from the OpenAPI document (openapi-python-client, as a brand's
engineers would make one) calls a real web node and reads typed answers.

If the document and the code disagree — a path, a parameter, a response shape — the
generated client cannot make or parse the call, and this test says so."""

from __future__ import annotations

import importlib
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sessions.db import create_all, make_engine
from tests.factories import Factory
from tests.servers import WebServer

pytestmark = pytest.mark.slow

CONFIG = """\
post_hooks: []
project_name_override: vitrine-client
package_name_override: vitrine_client
"""


@pytest.fixture
def db_session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def generate_client(base_url: str, where: Path) -> Any:
    """Fetch the served document and generate the client package from it."""
    document = where / "openapi.json"
    with urllib.request.urlopen(f"{base_url}/api/openapi.json", timeout=30) as response:
        document.write_bytes(response.read())
    (where / "config.yaml").write_text(CONFIG)
    subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            str(document),
            "--config",
            str(where / "config.yaml"),
            "--output-path",
            str(where / "vitrine_client"),
            "--meta",
            "none",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(where))
    return importlib.import_module("vitrine_client")


def test_a_generated_client_makes_real_calls(
    database_url: str, tmp_path: Path, db_session: Session
) -> None:
    seed = Factory(db_session)
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    product = seed.product(brand, name="Petite Lune", stock=2, sizes=("S",))
    seed.session.commit()
    with WebServer(database_url, tmp_path / "node", async_mode="gevent") as server:
        client_package = generate_client(server.url, tmp_path)
        try:
            products_api = importlib.import_module(
                "vitrine_client.api.catalogue.get_api_brands_brand_id_products"
            )
            offline_api = importlib.import_module(
                "vitrine_client.api.consultations.get_api_brands_brand_id_offline"
            )
            client = client_package.Client(base_url=server.url, raise_on_unexpected_status=True)

            listed = products_api.sync_detailed(client=client, brand_id=brand.id)
            assert listed.status_code == 200
            assert [p.name for p in listed.parsed] == ["Petite Lune"]
            assert listed.parsed[0].id == product.id

            offline = offline_api.sync_detailed(client=client, brand_id=brand.id)
            assert offline.status_code == 200
            assert offline.parsed.status == "offline"  # nobody works at this brand yet

            missing = offline_api.sync_detailed(client=client, brand_id=999_999)
            assert missing.status_code == 404
            assert missing.parsed.error == "not_found"
        finally:
            sys.path.remove(str(tmp_path))
            for name in [m for m in sys.modules if m.startswith("vitrine_client")]:
                del sys.modules[name]
