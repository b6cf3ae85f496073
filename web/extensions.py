"""Extensions created here, bound to the app in the factory."""

from __future__ import annotations

from flask import current_app, request
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

# The embed's shopper token header (web/shop/embed.py reads it).
EMBED_HEADER = "X-Vitrine-Embed"


class Csrf(CSRFProtect):
    """CSRF protection for every form and API call that a cookie vouches for.

    A call from inside a cross-site embed carries no cookie at all (SameSite=Lax): the
    shopper is the embed's token, sent by the page's script in a header that another site
    can neither read nor make a browser add. With nothing ambient to forge there is no
    CSRF to check, and no session to keep a CSRF token in. A call that has the cookie is
    checked as always, header or not."""

    def protect(self, apply_exemptions: bool = False) -> None:
        cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
        if request.headers.get(EMBED_HEADER) and cookie not in request.cookies:
            return
        super().protect(apply_exemptions=apply_exemptions)


socketio = SocketIO()
csrf = Csrf()
