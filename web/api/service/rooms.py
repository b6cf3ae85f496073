"""The consultation room: arrive, admit, end, transfer, media grant, rating."""

from __future__ import annotations

from flask import current_app

from sessions.access import (
    MediaSide,
    access_host,
    access_join,
    access_media,
    access_shopper_side,
)
from sessions.grants import issue_grant
from sessions.service import ratings, rooms
from web.api import bp
from web.api.service.common import (
    _consultation,
    consultation_out,
)
from web.api.service.schemas import (
    ConsultationGrantIn,
    ConsultationGrantOut,
    ConsultationOut,
    ConsultationTransferIn,
    RatingIn,
    RatingOut,
)
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor
from web.relay import grant_claims
from web.relays import assign_relay
from web.turn import grant_ice

# --- the consultation room ----------------------------------------------------------


@api_route(
    bp,
    "/consultations/<int:consultation_id>",
    "GET",
    response=ConsultationOut,
    tag="consultations",
    summary="A consultation's state: waiting, live or ended",
)
def consult_get_consultation(consultation_id: int) -> ConsultationOut:
    live = _consultation(consultation_id)
    access_join(current_actor(), live)
    return consultation_out(live)


@api_route(
    bp,
    "/consultations/<int:consultation_id>/arrive",
    "POST",
    response=ConsultationOut,
    tag="consultations",
    summary="The shopper is on the waiting screen",
    auth="shopper",
)
def consult_arrive(consultation_id: int) -> ConsultationOut:
    live = _consultation(consultation_id)
    access_shopper_side(current_actor(), live)
    return consultation_out(rooms.do_arrive(db(), live))


@api_route(
    bp,
    "/consultations/<int:consultation_id>/admit",
    "POST",
    response=ConsultationOut,
    tag="consultations",
    summary="The associate admits the shopper",
    auth="staff",
)
def consult_admit(consultation_id: int) -> ConsultationOut:
    live = _consultation(consultation_id)
    access_host(current_actor(), live)
    return consultation_out(rooms.do_admit(db(), live))


@api_route(
    bp,
    "/consultations/<int:consultation_id>/end",
    "POST",
    response=ConsultationOut,
    tag="consultations",
    summary="End the consultation",
    auth="staff",
)
def consult_end(consultation_id: int) -> ConsultationOut:
    live = _consultation(consultation_id)
    access_host(current_actor(), live)
    return consultation_out(rooms.do_end_consultation(db(), live))


@api_route(
    bp,
    "/consultations/<int:consultation_id>/transfer",
    "POST",
    body=ConsultationTransferIn,
    response=ConsultationOut,
    tag="consultations",
    summary="Hand the consultation to a colleague",
    auth="staff",
    example={"associate_id": 2},
)
def consult_transfer(consultation_id: int, body: ConsultationTransferIn) -> ConsultationOut:
    live = _consultation(consultation_id)
    access_host(current_actor(), live)
    return consultation_out(rooms.do_transfer(db(), live, body.associate_id))


@api_route(
    bp,
    "/consultations/<int:consultation_id>/media-grant",
    "POST",
    body=ConsultationGrantIn,
    response=ConsultationGrantOut,
    tag="consultations",
    summary="A relay grant for one side of the consultation's 1:1 video",
)
def consult_media_grant(consultation_id: int, body: ConsultationGrantIn) -> ConsultationGrantOut:
    live = _consultation(consultation_id)
    actor = current_actor()
    side = MediaSide.SHOPPER if body.side == "shopper" else MediaSide.HOST
    room = access_media(actor, live, body.role, side)
    config = current_app.config
    grant = issue_grant(
        config["MEDIA_GRANT_SECRET"],
        room=room,
        role=body.role,
        identity=actor.identity,
        **grant_claims(live),
    )
    return ConsultationGrantOut(
        relay_url=assign_relay(live).url, grant=grant, room=room, **grant_ice(actor.identity)
    )


@api_route(
    bp,
    "/consultations/<int:consultation_id>/rating",
    "POST",
    body=RatingIn,
    response=RatingOut,
    status=201,
    tag="consultations",
    summary="Rate a consultation (1-5 and a comment)",
    auth="shopper",
    example={"score": 5, "comment": "Lovely"},
)
def consult_rate(consultation_id: int, body: RatingIn) -> RatingOut:
    live = _consultation(consultation_id)
    actor = current_actor()
    access_shopper_side(actor, live)
    assert actor.shopper_id is not None
    rating = ratings.do_rate(
        db(), live, shopper_id=actor.shopper_id, score=body.score, comment=body.comment
    )
    assert rating.id is not None
    return RatingOut(id=rating.id, score=rating.score, comment=rating.comment)
