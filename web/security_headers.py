"""Security headers on every response: CSP, framing, sniffing, referrer, HSTS in production.

Written here rather than taken from Flask-Talisman: the policy is a few fixed
directives plus two per-request facts (the relay's origin, and on embed pages the
brand's allowed embedding origins), and Talisman's maintained fork would still need
both passed in per request; a dozen lines are easier to read than its options.

Scripts: only files from this origin (`'self'`): the templates carry no inline script
or event handler (JSON data blocks are not executed, so CSP leaves them alone).
Styles: files from this origin, plus the one `<style>` of brand colours, which carries
this response's nonce (``csp_nonce()`` in templates); no `style=` attributes (utility
classes in vitrine.css instead). Scripts may still set styles through the CSSOM.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

HSTS = "max-age=31536000"


def allow_framing_by(origins: Iterable[str]) -> None:
    """Let these origins frame the current response (an embed page); others still may not."""
    g.frame_ancestors = [o for o in origins if o]


def csp_nonce() -> str:
    """A fresh random value per response for the inline elements a template must keep."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    nonce: str = g.csp_nonce
    return nonce


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def _websocket_origin() -> str:
    # 'self' covers ws: and wss: of this host in current browsers; say it anyway for the rest.
    scheme = "wss" if request.scheme == "https" else "ws"
    return f"{scheme}://{request.host}"


def content_security_policy(frame_ancestors: list[str] | None) -> str:
    from web.relays import relay_origins

    relay = " ".join(relay_origins())
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": f"'self' 'nonce-{g.csp_nonce}'" if "csp_nonce" in g else "'self'",
        "img-src": f"'self' data: blob: {relay}",
        # Recordings and HLS come from the relay; hls.js plays through blob: (MediaSource).
        "media-src": f"'self' blob: {relay}",
        "connect-src": f"'self' {_websocket_origin()} {relay}",
        "worker-src": "'self' blob:",  # hls.js parses segments in a worker made from a blob
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": ancestors,
    }
    return "; ".join(f"{name} {value.strip()}" for name, value in directives.items())


def _add_headers(response: Response) -> Response:
    ancestors: list[str] | None = g.get("frame_ancestors")
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(ancestors))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if not ancestors:
        # For browsers without frame-ancestors; it cannot name a list, so embeds go without.
        headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("VITRINE_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_add_headers)
