"""Console pages. Signed-in brand staff only; the host view also checks access_host."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import col, select
from werkzeug.wrappers import Response

from sessions.access import Actor, access_brand_staff, access_host, can_manage_cohost
from sessions.analytics.live import live_figures
from sessions.errors import DomainError, NotFound
from sessions.models import Brand, Show, ShowHost, ShowStatus
from sessions.shows import cohost as cohosts
from sessions.shows import lifecycle
from sessions.shows.lifecycle import ShowAction, live_session_for_show
from web.console import bp
from web.console.colour import variant_choices
from web.db import db
from web.errors import error_text
from web.identity import current_actor
from web.shop.cards import iso, pinned_or_featured, product_cards
from web.shows import end_show, start_show


def signed_in_staff() -> Actor | None:
    actor = current_actor()
    return actor if actor.is_staff else None


def to_login() -> Response:
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def console_brand(actor: Actor) -> Brand:
    brand_id = actor.brand_id
    if brand_id is None:  # a platform admin: the brand is picked with ?brand=<id>
        brand_id = request.args.get("brand", type=int)
    brand = db().get(Brand, brand_id) if brand_id else db().exec(select(Brand)).first()
    if brand is None:
        raise NotFound(_("No brand to work on yet."))
    access_brand_staff(actor, brand.id or 0)
    return brand


@bp.get("/")
def index() -> Response | str:
    actor = signed_in_staff()
    if actor is None:
        return to_login()
    brand = console_brand(actor)
    shows = (
        db()
        .exec(
            select(Show)
            .where(Show.brand_id == brand.id)
            .where(col(Show.status).in_([ShowStatus.SCHEDULED, ShowStatus.LIVE]))
            .order_by(col(Show.starts_at))
        )
        .all()
    )
    mine = set(
        db().exec(select(ShowHost.show_id).where(ShowHost.associate_id == actor.associate_id)).all()
    )
    return render_template(
        "console/index.html", brand=brand, shows=shows, mine=mine, iso=iso, section="shows"
    )


def _host_page(actor: Actor, show: Show, error: str | None = None) -> str:
    live = live_session_for_show(db(), show)
    access_host(actor, live)
    brand = db().get(Brand, show.brand_id)
    assert brand is not None
    cards = product_cards(db(), pinned_or_featured(db(), live, show), brand)
    actions = lifecycle.actions_for(db(), actor, show)
    return render_template(
        "console/host.html",
        brand=brand,
        show=show,
        live=live,
        cards=cards,
        relay_url=current_app.config["RELAY_URL"],
        section="shows",
        figures=live_figures(db(), live),
        # The host's two moves: offered exactly when the state allows them (the end
        # form waits hidden under "Go live", shown once the show is on air).
        is_host=lifecycle.is_host(db(), actor, show),
        can_start=ShowAction.START in actions,
        can_end=ShowAction.END in actions,
        error=error,
        **_cohost_context(actor, show),
        colour_variants=variant_choices(show.brand_id),
    )


def _cohost_context(actor: Actor, show: Show) -> dict[str, object]:
    """The co-host panel: offered to whoever may invite, mute and remove."""
    manage = can_manage_cohost(actor, show, lifecycle.host_ids(db(), show))
    return {
        "can_manage_cohost": manage,
        "cohost": cohosts.cohost_state(cohosts.current_cohost(db(), show)),
        "cohost_candidates": cohosts.associates_to_invite(db(), show) if manage else [],
        "max_name": cohosts.MAX_NAME,
    }


def _show(show_id: int) -> Show:
    show = db().get(Show, show_id)
    if show is None:
        raise NotFound(_("No show with id %(id)s.", id=show_id))
    return show


@bp.get("/shows/<int:show_id>")
def host_show(show_id: int) -> Response | str:
    actor = signed_in_staff()
    if actor is None:
        return to_login()
    return _host_page(actor, _show(show_id))


@bp.post("/shows/<int:show_id>/<any(start, end):button>")
def show_transition(show_id: int, button: str) -> Response | tuple[str, int]:
    """Go live or end the show from its form: what the console's script does over the API
    (camera first), for a browser without it. A refusal shows the page with its 409."""
    actor = signed_in_staff()
    if actor is None:
        return to_login()
    show = _show(show_id)
    try:
        (start_show if button == "start" else end_show)(actor, show)
    except DomainError as exc:
        db().rollback()
        return _host_page(actor, show, error=error_text(exc)), exc.status
    return redirect(url_for("console.host_show", show_id=show_id))
