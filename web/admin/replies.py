"""The brand's saved replies: list, write, edit, delete (its admin). Associates keep
their own from the console's inbox; both are filled in there (sessions/service/replies.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sessions.errors import DomainError, NotFound
from sessions.models import Brand, SavedReply
from sessions.service import replies
from web.admin import bp
from web.admin.forms import Form, admin_brand, needs_login
from web.db import db

Page = Response | str | tuple[str, int]


def _reply_of(brand: Brand, reply_id: int) -> SavedReply:
    reply = db().get(SavedReply, reply_id)
    if reply is None or reply.brand_id != brand.id or reply.associate_id is not None:
        raise NotFound(_("No saved reply of the brand with id %(id)s.", id=reply_id))
    return reply


def _form_page(brand: Brand, form: Form, reply: SavedReply | None) -> str:
    return render_template(
        "admin/reply_form.html",
        brand=brand,
        form=form,
        reply=reply,
        placeholders=replies.PLACEHOLDERS,
        max_title=replies.MAX_TITLE,
        max_body=replies.MAX_BODY,
        section="replies",
    )


@bp.get("/replies")
def saved_replies() -> Page:
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    rows = replies.brand_replies(db(), brand.id or 0)
    return render_template(
        "admin/replies.html",
        brand=brand,
        replies=rows,
        placeholders=replies.PLACEHOLDERS,
        section="replies",
    )


@bp.route("/replies/new", methods=["GET", "POST"])
def new_reply() -> Page:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    if request.method == "GET":
        return _form_page(brand, Form(), None)
    form = Form.from_request()
    try:
        reply = replies.do_create_reply(
            db(),
            actor,
            brand.id or 0,
            title=form.get("title"),
            body=form.get("body"),
            scope="brand",
        )
    except DomainError as exc:
        db().rollback()
        form.absorb(exc, "body")
        return _form_page(brand, form, None), 422
    flash(_("“%(title)s” is saved for the whole team.", title=reply.title))
    return redirect(url_for("admin.saved_replies"))


@bp.route("/replies/<int:reply_id>", methods=["GET", "POST"])
def edit_reply(reply_id: int) -> Page:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    reply = _reply_of(brand, reply_id)
    if request.method == "GET":
        return _form_page(brand, Form(values={"title": reply.title, "body": reply.body}), reply)
    form = Form.from_request()
    try:
        replies.do_update_reply(db(), actor, reply, title=form.get("title"), body=form.get("body"))
    except DomainError as exc:
        db().rollback()
        form.absorb(exc, "body")
        return _form_page(brand, form, reply), 422
    flash(_("Saved."))
    return redirect(url_for("admin.saved_replies"))


@bp.post("/replies/<int:reply_id>/delete")
def delete_reply(reply_id: int) -> Page:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    reply = _reply_of(brand, reply_id)
    title = reply.title
    replies.do_delete_reply(db(), actor, reply)
    flash(_("“%(title)s” was deleted.", title=title))
    return redirect(url_for("admin.saved_replies"))
