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

from flask import (
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import select
from werkzeug.wrappers import Response as WerkzeugResponse

from sessions.access import Actor, access_join, access_see_show, can_watch_replay
from sessions.catalogue import get_or_404
from sessions.clock import utcnow
from sessions.embedding import embed_origins
from sessions.errors import NotAuthenticated, NotFound
from sessions.i18n import N_
from sessions.models import Brand, Shopper, Show, ShowStatus
from sessions.shows.lifecycle import live_session_for_show
from web.db import db, reads_only
from web.extensions import EMBED_HEADER, csrf  # with the CSRF rule it opens
from web.identity import GUEST_KEY, current_actor, offer_guest_key, shopper_actor
from web.security_headers import allow_framing_by
from web.shop import bp
from web.shop.cards import bag_view, iso, open_bag, room_cards

_SALT = "vitrine-embed-guest"


@dataclass(frozen=True)
class EmbedGuest:
    """Who an embed token stands for: a shopper, or a guest key not used yet, at one brand."""

    key: str
    actor: Actor | None
    brand_id: int
    expires_at: datetime | None = None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def embed_token_for(key: str, brand_id: int) -> str:
    """Signed, valid EMBED_TOKEN_SECONDS, and for this brand only (`k` key, `b` brand)."""
    return _serializer().dumps({"k": key, "b": brand_id})


def guest_from_embed_token(token: object) -> EmbedGuest | None:
    """The guest an embed token stands for; None if it is not ours, too old, or its
    shopper has expired (refused: the page must be reloaded)."""
    if not isinstance(token, str) or not token:
        return None
    try:
        claims = _serializer().loads(token, max_age=current_app.config["EMBED_TOKEN_SECONDS"])
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(claims, dict):
        return None
    key, brand_id = claims.get("k"), claims.get("b")
    if not isinstance(key, str) or not isinstance(brand_id, int):
        return None
    shopper = db().exec(select(Shopper).where(Shopper.token == key)).first()
    if shopper is None:
        return EmbedGuest(key=key, actor=None, brand_id=brand_id)
    if shopper.expires_at <= utcnow():
        return None
    actor = shopper_actor(shopper)
    return EmbedGuest(key=key, actor=actor, brand_id=brand_id, expires_at=shopper.expires_at)


@bp.get("/embed/shows/<int:show_id>")
@reads_only
def embed_show(show_id: int) -> str:
    show = get_or_404(db(), Show, show_id, N_("show"))
    brand = db().get(Brand, show.brand_id)
    if brand is None:
        raise NotFound(N_("No such brand."))
    allow_framing_by(embed_origins(brand))  # the brand's own sites only (admin settings)
    live = live_session_for_show(db(), show)
    actor = current_actor()
    access_see_show(actor, show)
    access_join(actor, live)
    key = offer_guest_key()  # a key, not a row: this GET creates no shopper
    token = embed_token_for(key, brand.id or 0) if key else ""
    cards = room_cards(live, show, brand)  # as on the show page
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
    named = _request_brand_id()
    if named is not None and named != guest.brand_id:
        return  # bound to the brand whose page handed it out: anonymous elsewhere
    g.embed_brand_id = guest.brand_id
    if guest.actor is None:
        g.guest_key = guest.key  # the first action makes the shopper (ensure_shopper)
    else:
        g.actor = guest.actor
        g.shopper_expires_at = guest.expires_at


def _request_brand_id() -> int | None:
    """The brand a request is about, where its address or body names one: the brand it
    names, or the brand of the live session, show or consultation in its path."""
    from sessions.models import LiveSession, Variant

    args = request.view_args or {}
    if "live_session_id" in args or "consultation_id" in args:
        live = db().get(LiveSession, args.get("live_session_id") or args.get("consultation_id"))
        return live.brand_id if live is not None else None
    if "show_id" in args:
        show = db().get(Show, args["show_id"])
        return show.brand_id if show is not None else None
    if "brand_id" in args:
        return int(args["brand_id"])
    fields: dict[str, object] = dict(request.args)
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        fields.update(body)
    try:
        if fields.get("brand_id") is not None:
            return int(str(fields["brand_id"]))
        if fields.get("live_session_id") is not None:
            live = db().get(LiveSession, int(str(fields["live_session_id"])))
            return live.brand_id if live is not None else None
        if fields.get("variant_id") is not None:
            variant = db().get(Variant, int(str(fields["variant_id"])))
            return variant.brand_id if variant is not None else None
    except (TypeError, ValueError):
        return None  # the route's own validation answers 400
    return None


@bp.post("/embed/checkout")
@csrf.exempt
def embed_checkout() -> WerkzeugResponse:
    """ "Go to checkout" from inside the embed: the form posts the embed's token to the top
    window, which becomes the same shopper in Vitrine's own cookie and opens that bag.

    No CSRF token (the iframe has no cookie to keep one in): the signed, brand-bound,
    short-lived embed token read from the page is the proof. A signed-in account keeps
    its own session; a guest cookie is replaced by the embed's shopper (its bag is the
    one being checked out)."""
    guest = guest_from_embed_token(request.form.get("embed_token"))
    if guest is None:
        raise NotAuthenticated(N_("This checkout link has expired: reload the page and try again."))
    brand = db().get(Brand, guest.brand_id)
    if brand is None:
        raise NotFound(N_("No such brand."))
    if "user_id" not in session:
        session[GUEST_KEY] = guest.key
    return redirect(url_for("shop.bag", slug=brand.slug), code=303)
