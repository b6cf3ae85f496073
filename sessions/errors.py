"""Errors a user can cause. Each knows its HTTP status and a code for clients.

The domain raises these; the web layer turns them into a JSON error, a page or
a Socket.IO error event. Anything else escaping a handler is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessions.i18n import N_ as N_  # re-exported: one marker for the whole domain
from sessions.i18n import english


class DomainError(Exception):
    """``message`` is an English msgid marked ``N_()``, with ``%(name)s`` placeholders
    filled from ``params`` (`InvalidInput(N_("Keep it under %(n)s."), params={"n": 80})`).
    The domain knows no language: ``message`` is the English text (logs, the CLI, tests);
    the web layer translates ``msgid`` and fills it again in the reader's language."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
        **details: Any,
    ) -> None:
        self.msgid = message
        self.params = dict(params or {})
        self.message = english(message, self.params)
        super().__init__(self.message)
        if code is not None:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class SoldOut(Conflict):
    code = "sold_out"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"


class ServiceUnavailable(DomainError):
    """Something outside Vitrine (the mail server) failed: nothing was lost, try again."""

    status = 503
    code = "unavailable"
