"""Schema-driven fuzzing: every /api/ operation, random valid and invalid input, never a 5xx.

Runs in-process against the WSGI app (schemathesis + hypothesis), once as an
anonymous visitor and once signed in as a brand admin so that the code behind
the access checks is exercised too. CSRF is off in the test app (the fuzzer
cannot read a token from a page); tests/test_security.py checks CSRF itself.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from tests.conftest import login
from tests.factories import Factory

schemathesis.experimental.OPEN_API_3_1.enable()


@pytest.fixture
def api_schema(app: Flask, factory: Factory) -> schemathesis.BaseSchema:
    brand = factory.brand()
    factory.store(brand)
    factory.product(brand, stock=3, sizes=("S", "M"))
    factory.show(brand)
    admin = factory.admin(brand)
    client = app.test_client()
    login(client, admin.email)
    cookie = client.get_cookie("vitrine_session")
    assert cookie is not None
    app.config["FUZZ_COOKIE"] = f"vitrine_session={cookie.value}"
    return schemathesis.from_wsgi("/api/openapi.json", app)


schema = schemathesis.from_pytest_fixture("api_schema")


def _check(case: schemathesis.Case, headers: dict[str, str]) -> None:
    response = case.call_wsgi(headers=headers)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: "
        f"{response.get_data(as_text=True)[:300]}"
    )
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        assert isinstance(body, dict) and {"error", "message"} <= body.keys(), body


FUZZ = settings(
    max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.mark.slow
@schema.parametrize()
@FUZZ
def test_no_5xx_anonymous(case: schemathesis.Case) -> None:
    _check(case, {})


@pytest.mark.slow
@schema.parametrize()
@FUZZ
def test_no_5xx_signed_in_admin(case: schemathesis.Case, app: Flask) -> None:
    _check(case, {"Cookie": app.config["FUZZ_COOKIE"]})
