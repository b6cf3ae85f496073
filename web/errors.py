"""Errors become JSON for the API and a readable page for people. A 500 is a bug."""

from __future__ import annotations

import logging

from flask import Flask, Response, has_request_context, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from sessions.errors import N_, DomainError
from sessions.i18n import localised
from web.i18n import current_language

log = logging.getLogger(__name__)

# Seconds a client should wait before retrying while the database is out of reach.
DATABASE_RETRY_AFTER = 5


def transient_database_error(exc: BaseException) -> tuple[str, int] | None:
    """(code, seconds to wait) when a database error will pass by itself, else None.

    "busy": the node is overloaded, not broken (SQLite's single writer stayed busy past
    busy_timeout; every connection of the pool busy past its timeout, a flash sale's burst
    on PostgreSQL). "database_unavailable": PostgreSQL restarting or out of reach. HTTP
    answers both with 503 and Retry-After, a socket event with an ack saying the same, so a
    client retries instead of reporting a bug."""
    if isinstance(exc, PoolTimeout):
        return "busy", 1
    if isinstance(exc, OperationalError):
        if "locked" in str(exc.orig) or "could not obtain lock" in str(exc.orig):
            return "busy", 1
        return "database_unavailable", DATABASE_RETRY_AFTER
    if isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, InterfaceError)
    ):
        return "database_unavailable", DATABASE_RETRY_AFTER
    return None


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


# Werkzeug's own descriptions are English and in no catalogue of ours: the site says these
# instead when a view aborts without a description of its own.
_DESCRIPTIONS = {
    400: N_("The request could not be understood. Check what was sent and try again."),
    401: N_("Sign in to see this page."),
    403: N_("You are not allowed to see this page."),
    404: N_("This page does not exist. Check the address, or start again from the home page."),
    405: N_("This address does not accept this kind of request."),
    409: N_("This conflicts with a change made meanwhile. Reload the page and try again."),
    410: N_("This page is gone and will not come back."),
    413: N_("What you sent is too large."),
    415: N_("This kind of file or content is not accepted here."),
    422: N_("What you sent could not be used. Check it and try again."),
    429: N_("Too many requests at once. Wait a moment and try again."),
}


def error_text(exc: DomainError) -> str:
    """A domain error's message in the request's language (its msgid translated, then
    filled with its parameters); the English text outside a request."""
    if not has_request_context():
        return exc.message
    return localised(exc.msgid, exc.params, gettext, current_language())


def http_error_text(exc: HTTPException) -> str:
    """An HTTP error's text in the request's language: the view's own description (given
    translated, or a msgid) or, for Werkzeug's default one, ours."""
    status = exc.code or 500
    default = type(exc).description
    if exc.description and exc.description != default:
        return gettext(exc.description)
    if status in _DESCRIPTIONS:
        return gettext(_DESCRIPTIONS[status])
    return gettext("Something went wrong.")


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
        # Domain messages are English, marked N_(); shown in the reader's language.
        message = error_text(exc) if has_request_context() else exc.message
        return error_response(exc.status, exc.code, message, exc.details or None)

    @app.errorhandler(CSRFError)
    def on_csrf_error(exc: CSRFError) -> Response:
        return error_response(
            400,
            "csrf",
            gettext("The form expired or came from elsewhere. Reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = error_response(status, _CODES.get(status, "error"), http_error_text(exc))
        # A 405 says what it allows, a 429 when to come back (the exception's own headers).
        for name, value in exc.get_headers():
            if name.lower() in ("allow", "retry-after"):
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    def on_database_busy(exc: OperationalError) -> Response:
        return on_database_error(exc)

    @app.errorhandler(PoolTimeout)
    def on_pool_exhausted(exc: PoolTimeout) -> Response:
        return on_database_error(exc)

    @app.errorhandler(DBAPIError)
    def on_database_error(exc: DBAPIError | PoolTimeout) -> Response:
        transient = transient_database_error(exc)
        if transient is None:
            return on_unexpected(exc)
        code, retry_after = transient
        if code == "busy":
            log.warning("database busy on %s %s: %s", request.method, request.path, exc)
            response = error_response(503, "busy", gettext("We are very busy. Please try again."))
            response.headers["Retry-After"] = str(retry_after)
            return response
        return database_unavailable(exc)

    def database_unavailable(exc: DBAPIError | PoolTimeout) -> Response:
        # PostgreSQL restarting or out of reach (connection refused, terminated by the
        # administrator): not a bug, and over in seconds. The pool's pre-ping replaces the
        # dead connections on the next request, so the node recovers by itself.
        log.error(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            str(orig).strip().splitlines()[0] if (orig := getattr(exc, "orig", None)) else exc,
        )
        response = error_response(
            503,
            "database_unavailable",
            gettext("We cannot reach our database right now. Try again soon."),
        )
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response

    @app.errorhandler(RecursionError)
    def on_too_deep(exc: RecursionError) -> Response:
        # Only input nested beyond reason gets this deep (a JSON body, a form value
        # parsed somewhere): the client's doing, so a 400 and not a 500.
        log.warning("recursion limit on %s %s", request.method, request.path)
        return error_response(400, "too_deep", gettext("The request nests too deeply to be read."))

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", gettext("Something went wrong on our side."))
