"""The embed for a brand's own site: `/embed.js` inserts an iframe of `/embed/shows/<id>`.

Cookies: the session cookie is SameSite=Lax, so a browser does not send it to an
iframe on another *site* (and refuses to set it there). The embed page therefore
puts a signed, short-lived token in the page carrying a guest key (the shopper's
token, or a random key with no row yet: a GET creates nothing); its JS passes
that token to Socket.IO as `auth: {embed_token}` and to the API as the
`X-Vitrine-Embed` header. The first action (add to bag, chat, react) turns the
key into a shopper row (web/identity.py). Same-site embeds (another port or
subdomain) also carry the cookie, so the bag follows the shopper between the
embed and the brand's pages there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Response, current_app, g, render_template, request, send_from_directory, session
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import select

from sessions.access import Actor, access_join, access_see_show, can_watch_replay
from sessions.catalogue import get_or_404
from sessions.clock import utcnow
from sessions.embedding import embed_origins
from sessions.errors import NotFound
from sessions.models import Brand, Shopper, Show, ShowStatus
from sessions.shows.lifecycle import live_session_for_show
from web.db import db
from web.extensions import EMBED_HEADER  # with the CSRF rule it opens
from web.identity import current_actor, offer_guest_key, shopper_actor
from web.security_headers import allow_framing_by
from web.shop import bp
from web.shop.cards import bag_view, iso, open_bag, pinned_or_featured, product_card

_SALT = "vitrine-embed-guest"
# Longer than any show, short enough that a token copied out of a page soon stops working.
EMBED_TOKEN_MAX_AGE = 12 * 3600


@dataclass(frozen=True)
class EmbedGuest:
    """Who an embed token stands for: a shopper, or a guest key not used yet."""

    key: str
    actor: Actor | None
    expires_at: datetime | None = None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def embed_token_for(key: str) -> str:
    return _serializer().dumps(key)


def guest_from_embed_token(token: object) -> EmbedGuest | None:
    """The guest an embed token stands for; None if it is not ours, too old, or its
    shopper has expired (refused: the page must be reloaded)."""
    if not isinstance(token, str) or not token:
        return None
    try:
        key = _serializer().loads(token, max_age=EMBED_TOKEN_MAX_AGE)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(key, str):
        return None
    shopper = db().exec(select(Shopper).where(Shopper.token == key)).first()
    if shopper is None:
        return EmbedGuest(key=key, actor=None)
    if shopper.expires_at <= utcnow():
        return None
    return EmbedGuest(key=key, actor=shopper_actor(shopper), expires_at=shopper.expires_at)


@bp.get("/embed/shows/<int:show_id>")
def embed_show(show_id: int) -> str:
    show = get_or_404(db(), Show, show_id, "show")
    brand = db().get(Brand, show.brand_id)
    if brand is None:
        raise NotFound("No such brand.")
    allow_framing_by(embed_origins(brand))  # the brand's own sites only (admin settings)
    live = live_session_for_show(db(), show)
    actor = current_actor()
    access_see_show(actor, show)
    access_join(actor, live)
    key = offer_guest_key()  # a key, not a row: this GET creates no shopper
    token = embed_token_for(key) if key else ""
    cards = [product_card(db(), p, brand) for p in pinned_or_featured(db(), live, show)]
    bag = bag_view(db(), open_bag(db(), brand.id or 0, actor.shopper_id), brand)
    return render_template(
        "embed/show.html",
        brand=brand,
        show=show,
        live=live,
        cards=cards,
        bag=bag,
        embed_token=token,
        iso=iso,
        cancelled=show.status is ShowStatus.CANCELLED,
        replay=show.replay_path if can_watch_replay(actor, show) else None,
    )


@bp.get("/embed.js")
def embed_script() -> Response:
    response = send_from_directory(
        current_app.static_folder or "static", "js/embed-loader.js", max_age=300
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.before_app_request
def _embed_identity() -> None:
    """API calls from the embed carry the shopper in a header instead of a cookie."""
    token = request.headers.get(EMBED_HEADER)
    if not token or "user_id" in session or "shopper_token" in session:
        return
    guest = guest_from_embed_token(token)
    if guest is None:
        return
    if guest.actor is None:
        g.guest_key = guest.key  # the first action makes the shopper (ensure_shopper)
    else:
        g.actor = guest.actor
        g.shopper_expires_at = guest.expires_at
