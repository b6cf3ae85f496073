"""A thread's chat becomes video, both ways, as JSON: ask or offer, accept, decline, cancel.

Either side calls the same routes (the gates inside the actions, ``sessions.access``
``access_video_*``, say who may do what); live delivery is the ``video_request`` event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from pydantic import BaseModel, Field

from sessions.access import access_brand_staff, access_video_ask
from sessions.models import LiveSession, VideoRequest
from sessions.service import escalation, threads
from web.api import bp
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor
from web.service.shopper import room_entry_path

TAG = "threads"


class VideoRequestOut(BaseModel):
    id: int
    thread_id: int
    asked_by: str = Field(description="shopper (Show me on camera) or staff (the associate offers)")
    status: str = Field(description="pending, accepted, declined or cancelled")
    shopper_name: str
    associate_id: int
    associate_name: str
    live_session_id: int | None = Field(description="The consultation it opened, once accepted")
    created_at: datetime
    expires_at: datetime = Field(description="A pending request lapses then")
    answered_at: datetime | None
    room_url: str | None = Field(
        description="Once accepted: the consultation room for the caller's side"
    )
    enter_url: str | None = Field(
        description="Once accepted, for the shopper: a short-lived signed link that opens "
        "the room in a new tab (the embed has no cookie)"
    )


class VideoStateOut(BaseModel):
    request: VideoRequestOut | None = Field(
        description="The open request, or the accepted one whose consultation still runs"
    )


def _out(request: VideoRequest) -> VideoRequestOut:
    data: dict[str, Any] = escalation.request_out(db(), request)
    room_url = enter_url = None
    if request.live_session_id is not None:
        live = db().get(LiveSession, request.live_session_id)
        actor = current_actor()
        if live is not None and actor.is_staff:
            room_url = url_for("service.associate_room", live_session_id=live.id)
        elif live is not None:
            room_url = url_for("service.room", live_session_id=live.id)
            enter_url = room_entry_path(live)
    return VideoRequestOut(**data, room_url=room_url, enter_url=enter_url)


def _thread(thread_id: int) -> Any:
    thread = threads.thread_or_404(db(), thread_id)
    access_video_ask(current_actor(), thread)
    return thread


@api_route(
    bp,
    "/threads/<int:thread_id>/video",
    "POST",
    response=VideoRequestOut,
    status=201,
    tag=TAG,
    summary="Ask for video in a thread: the shopper (Show me on camera) or the associate "
    "holding it (Try it on for you on camera); asked by the other side already: a yes",
    auth="shopper",
)
def thread_video_ask(thread_id: int) -> VideoRequestOut:
    thread = threads.thread_or_404(db(), thread_id)
    return _out(escalation.do_request_video(db(), current_actor(), thread))


@api_route(
    bp,
    "/threads/<int:thread_id>/video",
    "GET",
    response=VideoStateOut,
    tag=TAG,
    summary="The thread's video request waiting for an answer, or its running consultation",
    auth="shopper",
)
def thread_video_state(thread_id: int) -> VideoStateOut:
    request = escalation.current_request(db(), _thread(thread_id))
    return VideoStateOut(request=_out(request) if request else None)


@api_route(
    bp,
    "/threads/<int:thread_id>/video/accept",
    "POST",
    response=VideoRequestOut,
    tag=TAG,
    summary="Accept the other side's video request: the consultation opens for both",
    auth="shopper",
)
def thread_video_accept(thread_id: int) -> VideoRequestOut:
    thread = threads.thread_or_404(db(), thread_id)
    return _out(escalation.do_accept_video(db(), current_actor(), thread))


@api_route(
    bp,
    "/threads/<int:thread_id>/video/decline",
    "POST",
    response=VideoRequestOut,
    tag=TAG,
    summary="Decline the other side's video request (they are told)",
    auth="shopper",
)
def thread_video_decline(thread_id: int) -> VideoRequestOut:
    thread = threads.thread_or_404(db(), thread_id)
    return _out(escalation.do_decline_video(db(), current_actor(), thread))


@api_route(
    bp,
    "/threads/<int:thread_id>/video/cancel",
    "POST",
    response=VideoRequestOut,
    tag=TAG,
    summary="Withdraw one's own video request (the other side is told)",
    auth="shopper",
)
def thread_video_cancel(thread_id: int) -> VideoRequestOut:
    thread = threads.thread_or_404(db(), thread_id)
    return _out(escalation.do_cancel_video(db(), current_actor(), thread))


@api_route(
    bp,
    "/brands/<int:brand_id>/video-requests",
    "GET",
    response=list[VideoRequestOut],
    tag=TAG,
    summary="My open video requests: shoppers asking me, and my offers waiting (the inbox)",
    auth="staff",
)
def video_requests_mine(brand_id: int) -> list[VideoRequestOut]:
    actor = current_actor()
    access_brand_staff(actor, brand_id)
    if actor.associate_id is None:
        return []
    mine = escalation.open_for_associate(db(), actor.associate_id)
    return [_out(r) for r in mine if r.brand_id == brand_id]
