"""The shopper's pages. No account: a guest shopper row appears only when needed."""

from __future__ import annotations

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import bindparam
from sqlmodel import select
from werkzeug.wrappers import Response as WerkzeugResponse

from sessions.access import (
    access_join,
    access_replay_captions,
    access_see_show,
    can_see_product,
    can_watch_replay,
)
from sessions.brand_texts import localised
from sessions.catalogue import get_or_404
from sessions.errors import DomainError, Forbidden, NotFound
from sessions.i18n import N_
from sessions.models import Brand, Product, Show, ShowStatus
from sessions.shows.calendar import show_calendar
from sessions.shows.captions import LANGUAGES, caption_text, captions_of
from sessions.shows.cohost import host_label
from sessions.shows.lifecycle import live_session_for_show
from sessions.shows.private import check_access_code
from sessions.shows.replay import replay_script
from web.db import db, reads_only
from web.errors import error_text
from web.i18n import current_language
from web.identity import current_actor, remember_show_pass
from web.shop import bp
from web.shop.cards import (
    bag_view,
    brand_shows,
    iso,
    open_bag,
    product_card,
    room_cards,
)
from web.shop.new_visitor import is_new_visitor, new_visitor_page
from web.sockets.snapshots import shared_part
from web.templating import brand_texts_of, remember_brand_texts


def clock_text(seconds: float) -> str:
    """12.5 -> "0:12", 3725 -> "1:02:05": a moment of a replay as a player shows it."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# Built once with a parameter: sessions/db.py, "statements built once".
_BRAND_BY_SLUG = select(Brand).where(Brand.slug == bindparam("slug"))


def brand_by_slug(slug: str) -> Brand:
    brand = db().exec(_BRAND_BY_SLUG, params={"slug": slug}).first()
    if brand is None:
        raise NotFound(gettext("No brand called '%(slug)s'.", slug=slug))
    return brand


def show_of_brand(brand: Brand, show_id: int) -> Show:
    show = db().get(Show, show_id)
    if show is None or show.brand_id != brand.id:
        raise NotFound(gettext("No show with id %(id)s.", id=show_id))
    return show


def shop_context(brand: Brand) -> dict[str, object]:
    """What every shopper page needs: the brand (for its theme) and the bag count."""
    bag = bag_view(db(), open_bag(db(), brand.id or 0, current_actor().shopper_id), brand)
    return {"brand": brand, "bag": bag}


@bp.get("/b/<slug>")
def brand_home(slug: str) -> str:
    brand = brand_by_slug(slug)
    assert brand.id is not None
    return render_template(
        "shop/brand_home.html", shows=brand_shows(db(), brand.id), iso=iso, **shop_context(brand)
    )


def code_page(brand: Brand, the_show: Show, error: str | None, status: int) -> tuple[str, int]:
    """A private show to someone without its code: the form asking for it."""
    page = render_template("shop/show_code.html", show=the_show, error=error, **shop_context(brand))
    return page, status


def show_page(brand: Brand, the_show: Show, **extra: object) -> str | tuple[str, int]:
    """The show page: the live picture (or the published replay), chat, products, and
    "remind me" while the show is upcoming; a private show's code form (403) to whoever
    has not entered its code."""
    actor = current_actor()
    access_see_show(actor, the_show)
    live = live_session_for_show(db(), the_show)
    try:
        access_join(actor, live)
    except Forbidden as exc:
        if exc.code != "private_show":
            raise
        return code_page(brand, the_show, None, exc.status)
    # The host's pins as the room has them ("showing now" first), else the show's products.
    cards = room_cards(live, the_show, brand)  # the host's pins, else the show's pieces
    # The show's title and description in the reader's language and the host's name: alike
    # for every viewer, kept per node with the room's state (web/sockets/snapshots.py).
    texts = shared_part(
        live,
        f"show_texts:{current_language()}",
        lambda: brand_texts_of("show", the_show, ("title", "description")),
    )
    remember_brand_texts(texts)
    host_name = shared_part(live, "host", lambda: host_label(db(), the_show))
    replay = the_show.replay_path if can_watch_replay(actor, the_show) else None

    def render() -> str:
        script = replay_script(db(), the_show, live) if replay else None
        return render_template(
            "shop/show.html",
            show=the_show,
            live=live,
            cards=cards,
            iso=iso,
            cancelled=the_show.status is ShowStatus.CANCELLED,
            replay=replay,
            script=script,
            captions=captions_of(db(), the_show) if replay else [],
            clock=clock_text,
            remind={"email": "", "error": None} | extra,
            host_name=host_name,
            **shop_context(brand),
        )

    if not extra and is_new_visitor():  # what every new browser sees (web/shop/new_visitor.py)
        return new_visitor_page(live, render)
    return render()


@bp.get("/b/<slug>/shows/<int:show_id>")
@reads_only  # a show's start brings a thousand of these at once (web/db.py)
def show(slug: str, show_id: int) -> str | tuple[str, int]:
    brand = brand_by_slug(slug)
    return show_page(brand, show_of_brand(brand, show_id))


@bp.get("/b/<slug>/shows/<int:show_id>/captions/<language>.vtt")
def show_captions(slug: str, show_id: int, language: str) -> Response:
    """A replay's captions in one language, for its player's ``<track>``."""
    brand = brand_by_slug(slug)
    the_show = show_of_brand(brand, show_id)
    access_see_show(current_actor(), the_show)
    access_replay_captions(current_actor(), the_show, live_session_for_show(db(), the_show))
    if language not in LANGUAGES:
        raise NotFound("No captions in that language.")
    return Response(caption_text(db(), the_show, language), mimetype="text/vtt")


@bp.post("/b/<slug>/shows/<int:show_id>/code")
def enter_show_code(slug: str, show_id: int) -> WerkzeugResponse | tuple[str, int]:
    """The access code of a private show: right, the browser keeps a pass (signed session)
    and goes to the show; wrong, the form again (403, with the message); 429 when over
    the rate limit (sessions/shows/private.py)."""
    brand = brand_by_slug(slug)
    the_show = show_of_brand(brand, show_id)
    access_see_show(current_actor(), the_show)
    try:
        check_access_code(the_show, request.form.get("code", ""), request.remote_addr or "")
    except DomainError as exc:
        return code_page(brand, the_show, error_text(exc), exc.status)
    assert the_show.id is not None
    remember_show_pass(the_show.id)
    return redirect(url_for("shop.show", slug=slug, show_id=show_id))


@bp.get("/b/<slug>/products/<int:product_id>")
def product(slug: str, product_id: int) -> str:
    brand = brand_by_slug(slug)
    item = get_or_404(db(), Product, product_id, N_("product"))
    if item.brand_id != brand.id or not can_see_product(current_actor(), item):
        abort(404, description=gettext("No product with id %(id)s.", id=product_id))
    return render_template(
        "shop/product.html",
        product=item,
        card=product_card(db(), item, brand),
        can_add=brand.bag_outside_live,
        **shop_context(brand),
    )


@bp.get("/b/<slug>/bag")
def bag(slug: str) -> str:
    brand = brand_by_slug(slug)
    return render_template("shop/bag.html", **shop_context(brand))


@bp.get("/b/<slug>/shows/<int:show_id>.ics")
def show_ics(slug: str, show_id: int) -> Response:
    brand = brand_by_slug(slug)
    the_show = show_of_brand(brand, show_id)
    access_see_show(current_actor(), the_show)
    if the_show.status is ShowStatus.CANCELLED:
        abort(410, description=gettext("This show was cancelled."))
    page = current_app.config["PUBLIC_URL"] + url_for("shop.show", slug=slug, show_id=show_id)
    filename = f"{brand.slug}-show-{the_show.id}.ics"
    lang = current_language()
    calendar = show_calendar(
        the_show,
        brand,
        page,
        language=lang,
        title=localised(db(), "show", the_show, "title", lang),
        description=localised(db(), "show", the_show, "description", lang),
    )
    return Response(
        calendar,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
