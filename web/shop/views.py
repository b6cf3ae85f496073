"""The shopper's pages. No account: a guest shopper row appears only when needed."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, current_app, render_template, request, url_for
from icalendar import Calendar, Event
from sqlmodel import select

from sessions.access import access_join, can_see_product
from sessions.catalogue import get_or_404, live_session_for_show
from sessions.errors import NotFound
from sessions.models import Brand, Product, Show, ShowStatus
from web.db import db
from web.identity import current_actor
from web.shop import bp
from web.shop.cards import (
    bag_view,
    brand_shows,
    iso,
    open_bag,
    pinned_or_featured,
    product_card,
)


def brand_by_slug(slug: str) -> Brand:
    brand = db().exec(select(Brand).where(Brand.slug == slug)).first()
    if brand is None:
        raise NotFound(f"No brand called '{slug}'.")
    return brand


def show_of_brand(brand: Brand, show_id: int) -> Show:
    show = db().get(Show, show_id)
    if show is None or show.brand_id != brand.id:
        raise NotFound(f"No show with id {show_id}.")
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


@bp.get("/b/<slug>/shows/<int:show_id>")
def show(slug: str, show_id: int) -> str:
    brand = brand_by_slug(slug)
    the_show = show_of_brand(brand, show_id)
    live = live_session_for_show(db(), the_show)
    access_join(current_actor(), live)
    cards = [product_card(db(), p, brand) for p in pinned_or_featured(db(), live, the_show)]
    return render_template(
        "shop/show.html",
        show=the_show,
        live=live,
        cards=cards,
        iso=iso,
        cancelled=the_show.status is ShowStatus.CANCELLED,
        **shop_context(brand),
    )


@bp.get("/b/<slug>/products/<int:product_id>")
def product(slug: str, product_id: int) -> str:
    brand = brand_by_slug(slug)
    item = get_or_404(db(), Product, product_id, "product")
    if item.brand_id != brand.id or not can_see_product(current_actor(), item):
        abort(404, description=f"No product with id {product_id}.")
    return render_template(
        "shop/product.html",
        product=item,
        card=product_card(db(), item, brand),
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
    if the_show.status is ShowStatus.CANCELLED:
        abort(410, description="This show was cancelled.")
    page = current_app.config["PUBLIC_URL"] + url_for("shop.show", slug=slug, show_id=show_id)
    cal = Calendar()
    cal.add("prodid", "-//Vitrine//Live shows//EN")
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", f"show-{the_show.id}@{request.host.split(':')[0]}")
    event.add("summary", f"{brand.name}: {the_show.title}")
    event.add("dtstart", the_show.starts_at)
    event.add("dtend", the_show.starts_at + timedelta(minutes=the_show.duration_minutes))
    event.add("dtstamp", the_show.created_at)
    event.add("description", f"{the_show.description}\n\nWatch live: {page}".strip())
    event.add("url", page)
    event.add("location", page)
    cal.add_component(event)
    filename = f"{brand.slug}-show-{the_show.id}.ics"
    return Response(
        cal.to_ical(),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
