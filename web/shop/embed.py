"""The embed for a brand's own site: `/embed.js` inserts an iframe of `/embed/shows/<id>`.

Cookies: the session cookie is SameSite=Lax, so a browser does not send it to an
iframe on another *site* (and refuses to set it there). The embed page therefore
makes its own guest shopper and puts a signed token for it in the page; its JS
passes that token to Socket.IO as `auth: {embed_token}` and to the API as the
`X-Vitrine-Embed` header, and `actor_from_embed_token()` turns it back into the
shopper. Same-site embeds (another port or subdomain) also carry the cookie, so
the bag follows the shopper between the embed and the brand's pages there.
"""

from __future__ import annotations

from flask import Response, current_app, g, render_template, request, send_from_directory, session
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import select

from sessions.access import Actor, ActorKind, access_join
from sessions.catalogue import get_or_404, live_session_for_show
from sessions.embedding import embed_origins
from sessions.errors import NotFound
from sessions.models import Brand, Shopper, Show
from web.db import db
from web.identity import ensure_shopper
from web.security_headers import allow_framing_by
from web.shop import bp
from web.shop.cards import bag_view, iso, open_bag, pinned_or_featured, product_card

_SALT = "vitrine-embed-shopper"
EMBED_HEADER = "X-Vitrine-Embed"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def embed_token_for(shopper: Shopper) -> str:
    return _serializer().dumps(shopper.token)


def actor_from_embed_token(token: object) -> Actor | None:
    """The shopper an embed token stands for, or None if it is not one of ours."""
    if not isinstance(token, str) or not token:
        return None
    try:
        shopper_token = _serializer().loads(token)
    except BadSignature:
        return None
    shopper = db().exec(select(Shopper).where(Shopper.token == shopper_token)).first()
    if shopper is None:
        return None
    return Actor(kind=ActorKind.SHOPPER, name=shopper.name or "Guest", shopper_id=shopper.id)


@bp.get("/embed/shows/<int:show_id>")
def embed_show(show_id: int) -> str:
    show = get_or_404(db(), Show, show_id, "show")
    brand = db().get(Brand, show.brand_id)
    if brand is None:
        raise NotFound("No such brand.")
    allow_framing_by(embed_origins(brand))  # the brand's own sites only (admin settings)
    live = live_session_for_show(db(), show)
    actor = ensure_shopper()
    access_join(actor, live)
    token = ""
    if actor.shopper_id is not None:
        shopper = db().get(Shopper, actor.shopper_id)
        token = embed_token_for(shopper) if shopper else ""
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
    actor = actor_from_embed_token(token)
    if actor is not None:
        g.actor = actor
