"""The platform's landing page: the brands hosted here, each linking to its home."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlmodel import select

from sessions.models import Brand
from web.db import db

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    brands = db().exec(select(Brand).order_by(Brand.name)).all()
    return render_template("home.html", brands=brands)
