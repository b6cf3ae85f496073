"""Whom a running consultation may be handed to: present colleagues, with their load
(the same list, and shape, as a thread's transfer options in web/api/service/desk.py)."""

from __future__ import annotations

from sessions.access import access_host
from sessions.clock import utcnow
from sessions.service import desk, routing
from web.api import bp
from web.api.service.common import _consultation
from web.api.service.desk import ColleagueOut
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor


@api_route(
    bp,
    "/consultations/<int:consultation_id>/colleagues",
    "GET",
    response=list[ColleagueOut],
    tag="consultations",
    summary="Colleagues present to take this consultation over, with their load",
    auth="staff",
)
def consult_colleagues(consultation_id: int) -> list[ColleagueOut]:
    live = _consultation(consultation_id)
    access_host(current_actor(), live)
    people = routing.colleagues(db(), live.brand_id, utcnow(), exclude=live.associate_id)
    return [ColleagueOut.model_validate(desk.colleague_card(db(), c)) for c in people]
