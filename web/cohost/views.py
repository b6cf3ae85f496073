"""Co-host routes. The console's calls answer JSON; the guest's link and the co-host's
page are pages. GET only reads: accepting a link is a POST."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sessions.access import access_cohost_link, access_cohost_publish, access_cohost_stage
from sessions.clock import utcnow
from sessions.errors import N_, DomainError, InvalidInput, NotFound
from sessions.grants import COHOST_SLOT, issue_grant
from sessions.models import Brand, Show, ShowCohost
from sessions.shows import cohost as cohosts
from sessions.shows.lifecycle import live_session_for_show
from web.cohost import bp
from web.db import db
from web.identity import current_actor, remember_cohost_pass, remember_show_pass
from web.relay import mute_cohost, remove_cohost
from web.relays import assign_relay
from web.turn import grant_ice


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _public_url(path: str) -> str:
    base = str(current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")
    return f"{base}{path}"


def _show(show_id: int) -> Show:
    show = db().get(Show, show_id)
    if show is None:
        raise NotFound(N_("No show with id %(id)s."), params={"id": show_id})
    return show


def stage_link(cohost: ShowCohost) -> str:
    return _public_url(url_for("cohost.stage", cohost_id=cohost.id))


@bp.app_template_global("cohost_invitations")
def cohost_invitations() -> list[dict[str, Any]]:
    """The invitations to co-host standing for the signed-in associate: every console
    page lists them (console/layout.html), pushes add and remove them after."""
    return cohosts.invitations_for(db(), current_actor())


# --- the host's side (console) ------------------------------------------------------


@bp.post("/console/shows/<int:show_id>/cohost")
def invite(show_id: int) -> tuple[dict[str, Any], int]:
    """Invite ``{"associate_id": n}`` or ``{"guest_name": "..."}``; answers the link to
    send (a guest's is shown this once: only its hash is kept)."""
    body = _json_body()
    associate_id = body.get("associate_id")
    if associate_id is not None and (type(associate_id) is not int or associate_id < 1):
        raise InvalidInput("associate_id is an id.", field="associate_id")
    guest_name = body.get("guest_name")
    if guest_name is not None and not isinstance(guest_name, str):
        raise InvalidInput("guest_name is text.", field="guest_name")
    cohost, token = cohosts.do_invite_cohost(
        db(), current_actor(), _show(show_id), associate_id=associate_id, guest_name=guest_name
    )
    link = _public_url(url_for("cohost.link", cohost_token=token)) if token else stage_link(cohost)
    return {"cohost": cohosts.cohost_state(cohost), "link": link}, 201


@bp.post("/console/cohosts/<int:cohost_id>/mute")
def mute(cohost_id: int) -> dict[str, Any]:
    muted = _json_body().get("muted")
    if not isinstance(muted, bool):
        raise InvalidInput("muted is true or false.", field="muted")
    cohost = cohosts.cohost_or_404(db(), cohost_id)
    live = cohosts.do_mute_cohost(db(), current_actor(), cohost, muted)
    return {"cohost": cohosts.cohost_state(cohost), "relayed": mute_cohost(live, muted)}


@bp.post("/console/cohosts/<int:cohost_id>/remove")
def remove(cohost_id: int) -> dict[str, Any]:
    cohost = cohosts.cohost_or_404(db(), cohost_id)
    live = cohosts.do_remove_cohost(db(), current_actor(), cohost)
    return {"cohost": cohosts.cohost_state(cohost), "relayed": remove_cohost(live)}


# --- the guest's link ---------------------------------------------------------------------


def _link_error(exc: DomainError) -> str:
    return {
        "cohost_link_used": _("This invitation link has already been used."),
        "cohost_link_expired": _("This invitation link has expired. Ask the host for a new one."),
    }.get(exc.code or "", _("This invitation link is not valid."))


def _link_page(token: str, error: str | None = None, status: int = 200) -> tuple[str, int]:
    cohost = cohosts.find_by_token(db(), token)
    show = db().get(Show, cohost.show_id) if cohost is not None else None
    brand = db().get(Brand, show.brand_id) if show is not None else None
    page = render_template(
        "cohost/link.html", cohost=cohost, show=show, brand=brand, token=token, error=error
    )
    return page, status


@bp.get("/cohost/<cohost_token>")
def link(cohost_token: str) -> tuple[str, int]:
    """What the link is, and a button to accept it; reading it changes nothing."""
    token = cohost_token
    try:
        access_cohost_link(cohosts.find_by_token(db(), token), utcnow())
    except DomainError as exc:
        db().commit()  # end the read (SQLite holds no lock past the request)
        return _link_page(token, _link_error(exc), exc.status)
    db().commit()
    return _link_page(token)


@bp.post("/cohost/<cohost_token>")
def accept(cohost_token: str) -> Response | tuple[str, int]:
    token = cohost_token
    try:
        cohost = cohosts.do_accept_cohost(db(), token)
    except DomainError as exc:
        db().rollback()
        return _link_page(token, _link_error(exc), exc.status)
    assert cohost.id is not None
    remember_cohost_pass(cohost.id)
    remember_show_pass(cohost.show_id)  # a private show's room opens to its co-host
    return redirect(url_for("cohost.stage", cohost_id=cohost.id))


# --- the co-host's page ---------------------------------------------------------------


def _words() -> dict[str, str]:
    """The co-host page's states in words (cohost.js shows them)."""
    return {
        "camera_off": _("Camera off"),
        "preview": _("Camera on: only you see this preview"),
        "no_camera": _("No camera or microphone: allow them in your browser, then try again."),
        "connecting": _("Connecting to the show…"),
        "live": _("You are on air"),
        "reconnecting": _("Connection lost: reconnecting…"),
        "failed": _("Could not reach the video server. Try again."),
        "closed": _("You left the show"),
        "waiting": _("The show is not on air yet: you can join once the host goes live."),
        "muted": _("The host muted your microphone: viewers cannot hear you."),
        "unmuted": _("The host turned your microphone back on."),
        "removed": _("The host removed you from the show. Thank you for taking part."),
        "ended": _("The show has ended. Thank you for taking part."),
        "removed_badge": _("Removed by the host"),
        "ended_badge": _("Show ended"),
    }


@bp.get("/cohost/stage/<int:cohost_id>")
def stage(cohost_id: int) -> str:
    cohost = cohosts.cohost_or_404(db(), cohost_id)
    access_cohost_stage(current_actor(), cohost)
    show = _show(cohost.show_id)
    live = live_session_for_show(db(), show)
    brand = db().get(Brand, show.brand_id)
    db().commit()
    return render_template(
        "cohost/stage.html", cohost=cohost, show=show, live=live, brand=brand, words=_words()
    )


@bp.post("/cohost/stage/<int:cohost_id>/grant")
def grant(cohost_id: int) -> dict[str, Any]:
    """A one-minute grant to publish the co-host camera (the relay's co-host slot)."""
    cohost = cohosts.cohost_or_404(db(), cohost_id)
    actor = current_actor()
    show = _show(cohost.show_id)
    room = access_cohost_publish(actor, cohost, live_session_for_show(db(), show))
    db().commit()
    config = current_app.config
    token = issue_grant(
        config["MEDIA_GRANT_SECRET"],
        room=room,
        role="publish",
        identity=actor.identity if actor.identity != "anonymous" else f"cohost:{cohost.id}",
        slot=COHOST_SLOT,
    )
    return {
        "relay_url": assign_relay(live_session_for_show(db(), show)).url,
        "grant": token,
        "room": room,
        **grant_ice(f"cohost-{cohost.id}"),
    }


@bp.post("/cohost/stage/<int:cohost_id>/on-air")
def on_air(cohost_id: int) -> dict[str, Any]:
    """The co-host's page: ``{"on_air": true}`` once its camera reaches the relay."""
    value = _json_body().get("on_air")
    if not isinstance(value, bool):
        raise InvalidInput("on_air is true or false.", field="on_air")
    cohost = cohosts.cohost_or_404(db(), cohost_id)
    cohosts.do_set_cohost_on_air(db(), current_actor(), cohost, value)
    if value and cohost.muted:
        # A relay restarted since the mute would have forgotten it: say it again.
        show = _show(cohost.show_id)
        mute_cohost(live_session_for_show(db(), show), True)
    return {"cohost": cohosts.cohost_state(cohost)}
