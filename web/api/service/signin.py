"""A returning shopper asks for their e-mailed sign-in link (the page that uses it is
``web/service/shopper.py``: ``/signin/<token>``)."""

from __future__ import annotations

from typing import Annotated

from flask import request
from pydantic import BaseModel, Field, StringConstraints

from sessions.catalogue import get_or_404
from sessions.i18n import N_
from sessions.models import Brand
from sessions.service import signin
from web.api import bp
from web.api.spec import api_route
from web.db import db
from web.identity import ensure_shopper
from web.service import services


class SignInLinkIn(BaseModel):
    model_config = {"extra": "forbid"}
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]


class SignInLinkOut(BaseModel):
    sent_to: str = Field(description="The address the link goes to")
    minutes: int = Field(description="How long the link works (once)")


@api_route(
    bp,
    "/brands/<int:brand_id>/signin-link",
    "POST",
    body=SignInLinkIn,
    response=SignInLinkOut,
    status=202,
    tag="threads",
    summary="E-mail a one-time sign-in link: continue this thread on another device, or be "
    "recognised on this one (rate-limited)",
    auth="shopper",
    example={"email": "camille@example.com"},
)
def signin_link_request(brand_id: int, body: SignInLinkIn) -> SignInLinkOut:
    brand = get_or_404(db(), Brand, brand_id, N_("brand"))
    actor = ensure_shopper()
    asked = signin.do_request_link(
        db(), actor, brand, body.email, client=request.remote_addr or "unknown"
    )
    services.flush_signin_links()
    return SignInLinkOut(sent_to=asked.link.email, minutes=asked.minutes)
