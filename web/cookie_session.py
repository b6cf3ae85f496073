"""Flask's signed-cookie session, re-signed when it changes or once an hour, not on every response.

Every guest and every signed-in person has a *permanent* session (30 days, sliding:
``PERMANENT_SESSION_LIFETIME``). Flask's own interface then signs the cookie again and
sends ``Set-Cookie`` on every response (``SESSION_REFRESH_EACH_REQUEST``), so that the 30
days count from the last visit. That was two fifths of what every request cost in process
(bench/hot_path.py: 0.2 of 0.49 ms for an empty view; docs/performance.md), paid a
thousand times over when a show starts or a flash offer opens.

Here the cookie is still refreshed, but only when what it carries changed or when it was
signed more than ``REFRESH_AFTER_SECONDS`` ago (read from the signature's own timestamp,
which itsdangerous already checks against the lifetime). A session then lasts 30 days
from a visit at most an hour short of the last one. The serializer is made once per set
of keys instead of twice per request.

A cookie once verified is remembered (``VERIFIED_KEPT`` of them, the last seen) with what
it carries and when it was signed: the same browser sends the same cookie with each of
the four requests that open a show, and checking its signature and decoding Flask's
tagged JSON again was most of opening the session. The memory is keyed by the keys and
the cookie's exact text, holds only cookies whose signature was good, still applies the
lifetime, and hands each request its own copy of the data.

Why a subclass rather than a server-side session library: the cookie stays what it was
(same salt, format and keys, so no one is signed out by the change), and Flask documents
``should_set_cookie`` and ``open_session`` as the points to override.
"""

from __future__ import annotations

import contextlib
import copy
import time
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

REFRESH_AFTER_SECONDS = 3600
VERIFIED_KEPT = 4096  # cookies remembered as verified, per node (a show's audience, say)


class SignedSession(SecureCookieSession):
    """The session, with when its cookie was signed (None: new, or not from a cookie)."""

    signed_at: float | None = None


class HourlyRefreshSessionInterface(SecureCookieSessionInterface):
    session_class = SignedSession

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}
        # (keys, cookie text) → (data, signed at): cookies whose signature was checked
        self._verified: dict[tuple[tuple[Any, ...], str], tuple[Any, float]] = {}

    @staticmethod
    def _keys(app: Flask) -> tuple[Any, ...]:
        return (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = self._keys(app)
        serializer = self._serializers.get(keys)
        if serializer is None:
            made = super().get_signing_serializer(app)
            assert made is not None
            serializer = self._serializers[keys] = made
        return serializer

    def open_session(self, app: Flask, request: Request) -> SignedSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        seen = (self._keys(app), value)
        known = self._verified.get(seen)
        if known is None:
            try:
                data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            known = self._remember(seen, data, signed.timestamp())
        elif time.time() - known[1] > max_age:  # what itsdangerous would refuse now
            return self.session_class()
        session = self.session_class(copy.deepcopy(known[0]))  # the request's own copy
        session.signed_at = known[1]
        return session

    def _remember(
        self, seen: tuple[tuple[Any, ...], str], data: Any, signed_at: float
    ) -> tuple[Any, float]:
        if len(self._verified) >= VERIFIED_KEPT:  # the oldest first (dicts keep order)
            with contextlib.suppress(StopIteration, RuntimeError):  # changed meanwhile
                self._verified.pop(next(iter(self._verified)), None)
        known = self._verified[seen] = (copy.deepcopy(data), signed_at)
        return known

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or time.time() - signed_at >= REFRESH_AFTER_SECONDS
