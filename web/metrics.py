"""Prometheus metrics of a web node, at ``GET /metrics`` behind ``METRICS_TOKEN``.

Like the relay's ``/metrics`` (``RELAY_INTERNAL_TOKEN``), the route needs
``Authorization: Bearer <METRICS_TOKEN>``; with no token configured it refuses
everyone, and the shipped nginx refuses ``/metrics`` from outside whatever the
header: Prometheus scrapes each node on its own address.

- ``vitrine_http_requests_total{method, endpoint, status}`` and
  ``vitrine_http_request_duration_seconds{method, endpoint}`` (a histogram): per
  Flask endpoint (the view's name, never the path: a path carries ids and anyone can
  make up new ones), ``<unmatched>`` for a path no route has (404s, bad methods);
- ``vitrine_socket_connections{transport}``: Engine.IO connections open on this node
  now, ``websocket`` or ``polling`` (read from Engine.IO at scrape time).

One registry per app (tests make many apps in one process), one worker per node
(deploy/gunicorn.conf.py), so no multiprocess mode.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator

from flask import Flask, Response, current_app, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from web.extensions import socketio
from web.proxy import STARTED

UNMATCHED = "<unmatched>"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# Pages and API calls take milliseconds; a slow report or an upload, seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class SocketCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "vitrine_socket_connections",
            "Engine.IO connections open on this node",
            labels=["transport"],
        )
        counts = {"websocket": 0, "polling": 0}
        server = getattr(socketio, "server", None)
        eio = getattr(server, "eio", None)
        for sock in list(getattr(eio, "sockets", {}).values()):
            if not sock.closed:
                counts["websocket" if sock.upgraded else "polling"] += 1
        for transport, count in counts.items():
            family.add_metric([transport], count)
        yield family


class WebMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "vitrine_http_requests",
            "HTTP requests answered by this node",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "vitrine_http_request_duration_seconds",
            "Time to answer an HTTP request, from the WSGI call to the response",
            ["method", "endpoint"],
            registry=self.registry,
            buckets=BUCKETS,
        )
        self.registry.register(SocketCollector())

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(method, endpoint, str(status)).inc()
        self.latency.labels(method, endpoint).observe(seconds)


def _authorised() -> bool:
    expected = current_app.config.get("METRICS_TOKEN") or ""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def metrics_view() -> Response:
    if not _authorised():
        response = jsonify(
            error="not_authenticated",
            message="/metrics needs Authorization: Bearer <METRICS_TOKEN>",
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    metrics: WebMetrics = current_app.extensions["vitrine.metrics"]
    return Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    metrics = WebMetrics()
    app.extensions["vitrine.metrics"] = metrics
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])

    @app.after_request
    def _count(response: Response) -> Response:
        started = request.environ.get(STARTED)
        seconds = time.perf_counter() - started if isinstance(started, float) else 0.0
        endpoint = request.url_rule.endpoint if request.url_rule is not None else UNMATCHED
        metrics.observe(request.method, endpoint, response.status_code, seconds)
        return response
