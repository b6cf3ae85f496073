"""Prometheus metrics of a web node: behind METRICS_TOKEN, per endpoint, never per path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import app_config, running_app

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with running_app(app_config(database_url, tmp_path, METRICS_TOKEN=TOKEN)) as app:
        yield app


def scrape(app: Flask) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def sample(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer", f"bearer {TOKEN}x"]
)
def test_metrics_need_the_token(app: Flask, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "not_authenticated"
    assert b"vitrine_http" not in response.data


def test_without_a_configured_token_nobody_reads_them(database_url: str, tmp_path: Path) -> None:
    with running_app(app_config(database_url, tmp_path)) as app:
        for header in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer x"}):
            assert app.test_client().get("/metrics", headers=header).status_code == 401


def test_requests_are_counted_and_timed_per_endpoint(app: Flask) -> None:
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/brands").status_code == 200
    for n in range(4):  # made-up paths: one label, not four
        assert client.get(f"/no/such/page/{n}").status_code == 404
    assert client.open("/api/brands", method="BREW").status_code == 405
    metrics = scrape(app)
    count = "vitrine_http_requests_total"
    assert sample(metrics, count, method="GET", endpoint="api.list_brands", status="200") == 3
    assert sample(metrics, count, method="GET", endpoint="<unmatched>", status="404") == 4
    assert sample(metrics, count, method="other", endpoint="<unmatched>", status="405") == 1
    latency = "vitrine_http_request_duration_seconds_count"
    assert sample(metrics, latency, method="GET", endpoint="api.list_brands") == 3
    assert (
        sample(
            metrics,
            "vitrine_http_request_duration_seconds_sum",
            method="GET",
            endpoint="api.list_brands",
        )
        > 0
    )
    assert not any("/no/such" in str(labels) for _name, labels in metrics)


def test_the_socket_gauge_is_there_with_no_connection(app: Flask) -> None:
    metrics = scrape(app)
    assert sample(metrics, "vitrine_socket_connections", transport="websocket") == 0
    assert sample(metrics, "vitrine_socket_connections", transport="polling") == 0
