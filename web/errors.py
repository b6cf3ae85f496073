"""Errors become JSON for the API and a readable page for people. A 500 is a bug."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from sessions.errors import DomainError

log = logging.getLogger(__name__)

# Seconds a client should wait before retrying while the database is out of reach.
DATABASE_RETRY_AFTER = 5

_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, code: str, message: str, details: dict | None = None) -> Response:
    if wants_json():
        body: dict = {"error": code, "message": message}
        if details:
            body["details"] = details
        response = jsonify(body)
    else:
        response = Response(
            render_template("error.html", status=status, message=message), mimetype="text/html"
        )
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def on_domain_error(exc: DomainError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details or None)

    @app.errorhandler(CSRFError)
    def on_csrf_error(exc: CSRFError) -> Response:
        return error_response(
            400, "csrf", "The form expired or came from elsewhere. Reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = exc.description or "Something went wrong."
        return error_response(status, _CODES.get(status, "error"), message)

    @app.errorhandler(OperationalError)
    def on_database_busy(exc: OperationalError) -> Response:
        if "locked" in str(exc.orig) or "could not obtain lock" in str(exc.orig):
            # SQLite's single writer stayed busy past busy_timeout: a retry will do.
            log.warning("database busy on %s %s", request.method, request.path)
            response = error_response(503, "busy", "We are very busy. Please try again.")
            response.headers["Retry-After"] = "1"
            return response
        return database_unavailable(exc)

    @app.errorhandler(PoolTimeout)
    def on_pool_exhausted(exc: PoolTimeout) -> Response:
        # Every connection of the pool is busy past its timeout (a flash sale's burst on
        # PostgreSQL): the node is overloaded, not broken; a retry in a second will do.
        log.warning("connection pool exhausted on %s %s", request.method, request.path)
        response = error_response(503, "busy", "We are very busy. Please try again.")
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(DBAPIError)
    def on_database_error(exc: DBAPIError) -> Response:
        if exc.connection_invalidated or isinstance(exc, InterfaceError):
            return database_unavailable(exc)
        return on_unexpected(exc)

    def database_unavailable(exc: DBAPIError) -> Response:
        # PostgreSQL restarting or out of reach (connection refused, terminated by the
        # administrator): not a bug, and over in seconds. The pool's pre-ping replaces the
        # dead connections on the next request, so the node recovers by itself.
        log.error(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            str(exc.orig).strip().splitlines()[0] if exc.orig else exc,
        )
        response = error_response(
            503, "database_unavailable", "We cannot reach our database right now. Try again soon."
        )
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response

    @app.errorhandler(RecursionError)
    def on_too_deep(exc: RecursionError) -> Response:
        # Only input nested beyond reason gets this deep (a JSON body, a form value
        # parsed somewhere): the client's doing, so a 400 and not a 500.
        log.warning("recursion limit on %s %s", request.method, request.path)
        return error_response(400, "too_deep", "The request nests too deeply to be read.")

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", "Something went wrong on our side.")
