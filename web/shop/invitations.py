"""The personal link of a private show's invitee (sessions/shows/invitees.py).

``GET /invitations/<token>`` shows the show and a button and changes nothing (mail
scanners and link previews open links); the button POSTs to the same address, which
takes a pass (logged: when, which browser), keeps it in the signed session and goes to
the show. An unknown or revoked link answers 404 with a page that says so.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from sessions.models import Brand, Show, ShowInvitee
from sessions.shows import invitees
from web.db import db
from web.identity import remember_invitee_pass
from web.shop import bp
from web.shop.cards import iso
from web.shop.views import shop_context


def _invitation(token: str) -> tuple[ShowInvitee, Show, Brand]:
    invitee = invitees.invitee_by_token(db(), token)
    show = db().get(Show, invitee.show_id)
    brand = db().get(Brand, show.brand_id) if show else None
    assert show is not None and brand is not None  # the invitee cascades with its show
    return invitee, show, brand


@bp.get("/invitations/<invitee_token>")
def invitation_page(invitee_token: str) -> str:
    invitee, show, brand = _invitation(invitee_token)
    db().commit()  # end the read (SQLite holds its lock otherwise)
    return render_template(
        "shop/invitation.html",
        invitee=invitee,
        show=show,
        iso=iso,
        token=invitee_token,
        **shop_context(brand),
    )


@bp.post("/invitations/<invitee_token>")
def take_invitation(invitee_token: str) -> Response:
    invitee, show, brand = _invitation(invitee_token)
    assert show.id is not None and invitee.id is not None
    invitees.do_take_pass(
        db(),
        invitee,
        user_agent=request.headers.get("User-Agent", ""),
        client=request.remote_addr or "",
    )
    remember_invitee_pass(show.id, invitee.id)
    return redirect(url_for("shop.show", slug=brand.slug, show_id=show.id))
