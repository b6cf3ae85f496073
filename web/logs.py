"""Structured logs: one line per record, each with the id of the request it belongs to.

Every log record made while a request is handled carries ``request_id`` (from
``web.proxy``: the trusted proxy's ``X-Request-Id`` or a new one); a record made in a
Socket.IO event carries the id of the request that opened its connection; any other
record (the scheduler, start-up) carries ``null``. ``LOG_FORMAT=json`` (production's
default) writes each record as one JSON object; ``text`` writes the same fields as a
line for people. Each request also writes one access line (logger ``vitrine.access``):
method, path without the query string (a ``?grant=`` in a log would be a working
grant), status, endpoint, duration and the client's address as ``web.proxy`` decided.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, has_request_context, request
from werkzeug.wrappers import Response

from web.proxy import REQUEST_ID, STARTED

access_log = logging.getLogger("vitrine.access")
_HANDLER_MARK = "_vitrine_handler"
# Attributes every LogRecord has: anything else on a record was passed in `extra`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


def current_request_id() -> str | None:
    if not has_request_context():
        return None
    value = request.environ.get(REQUEST_ID)
    return value if isinstance(value, str) else None


def _install_record_factory() -> None:
    """Put ``request_id`` on every record, for every handler (tests' caplog included)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_vitrine", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            record.request_id = current_request_id()
        except Exception:  # a record made while a context is torn down: no id, no failure
            record.request_id = None
        return record

    factory._vitrine = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            **_extras(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = None
        return super().format(record)


def make_formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else TextFormatter()


def init_app(app: Flask) -> None:
    _install_record_factory()
    root = logging.getLogger()
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    ours = [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]
    if ours:  # a second app in one process: same handler, this app's format
        ours[0].setFormatter(make_formatter(app.config.get("LOG_FORMAT", "text")))
    elif not root.handlers:  # as logging.basicConfig: leave a host's own logging alone
        handler = logging.StreamHandler()
        setattr(handler, _HANDLER_MARK, True)
        handler.setFormatter(make_formatter(app.config.get("LOG_FORMAT", "text")))
        root.addHandler(handler)

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = request.environ.get(STARTED)
        duration = time.perf_counter() - started if isinstance(started, float) else 0.0
        endpoint = request.url_rule.endpoint if request.url_rule is not None else None
        access_log.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            duration * 1000,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "endpoint": endpoint,
                "duration_ms": round(duration * 1000, 2),
                "remote_addr": request.remote_addr,
            },
        )
        return response
