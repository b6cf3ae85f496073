"""Whom a running consultation may be handed to: present colleagues, with their load."""

from __future__ import annotations

from sessions.access import access_host
from sessions.clock import utcnow
from sessions.service import routing
from web.api import bp
from web.api.service.common import _consultation
from web.api.service.schemas import ColleagueOut
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
    return [
        ColleagueOut(
            id=c.profile.id or 0,
            name=c.profile.display_name,
            load=c.load,
            cap=c.cap,
            has_room=c.has_room,
        )
        for c in people
    ]
