"""The show page as a new browser sees it, rendered once per room and kept with its state.

At a show's start a thousand browsers open the same show page within seconds, most of
them for the first time (bench/flash_sale.py's show start), and rendering it was the
largest share of the node's work per arrival (docs/performance.md). To a browser that
brings nothing (no session, so no guest, no sign-in, no private-show pass, no flashed
message) the page is the same in one language but for two values: the CSRF token (each
browser gets its own session) and the CSP nonce (each response its own). So the page is
rendered once with stand-ins for those two, kept and dropped with the room's state
(``shared_part``, web/sockets/snapshots.py: any push to the room drops it, and it lives at
most ``ROOM_STATE_CACHE_SECONDS``), and each response writes its own values in.

The stand-ins are set where Flask-WTF and web/security_headers.py keep the request's
values (``g``), so every template, include and macro that asks for a token or a nonce
gets the stand-in, and nothing of one browser's ever lands in the copy: the render
leaves the session untouched, and a render that did touch it is not kept (checked).
Anyone else (a guest, staff, a browser with a pass) gets the page rendered for them.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from flask import current_app, g, request, session
from flask_wtf.csrf import generate_csrf

from sessions.access import ANONYMOUS
from sessions.models import LiveSession
from web.i18n import current_language
from web.identity import current_actor
from web.security_headers import csp_nonce
from web.sockets.snapshots import shared_part

log = logging.getLogger(__name__)

# Per process and unguessable, so no text a brand or a shopper writes can contain them.
TOKEN_STANDIN = "csrf-" + secrets.token_hex(16)
NONCE_STANDIN = "nonce-" + secrets.token_hex(16)


def is_new_visitor() -> bool:
    """The browser brings no session at all: it sees what every new browser sees."""
    return request.method == "GET" and not session and current_actor() == ANONYMOUS


def new_visitor_page(live: LiveSession, render: Callable[[], str]) -> str:
    """The page ``render`` makes, from the room's copy (made with the stand-ins if there
    is none), with this response's CSRF token and nonce written in."""
    key = f"new_visitor_page:{current_language()}:{request.host}:{request.full_path}"
    page: str | None = shared_part(live, key, lambda: _rendered_with_standins(render))
    if page is None:  # the render touched the session: it was this browser's alone
        return render()
    return page.replace(TOKEN_STANDIN, generate_csrf()).replace(NONCE_STANDIN, csp_nonce())


def _rendered_with_standins(render: Callable[[], str]) -> str | None:
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    saved = {name: g.pop(name) for name in (field, "csp_nonce") if name in g}
    setattr(g, field, TOKEN_STANDIN)
    g.csp_nonce = NONCE_STANDIN
    try:
        page = render()
    finally:
        g.pop(field, None)
        g.pop("csp_nonce", None)
        for name, value in saved.items():
            setattr(g, name, value)
    if session:
        log.warning("a new visitor's page wrote to the session: not kept (%s)", request.path)
        return None
    return page
