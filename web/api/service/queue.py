"""Talk now: join the queue, wait, leave; the associate accepts or declines an offer."""

from __future__ import annotations

from sessions.access import (
    access_brand_staff,
)
from sessions.catalogue import get_or_404
from sessions.clock import utcnow
from sessions.i18n import N_
from sessions.models import (
    AssociateProfile,
    QueueRequest,
)
from sessions.service import queue
from web.api import bp
from web.api.service.common import (
    _brand,
    _own_request,
    _profile,
    _shopper_id,
    consultation_out,
    queue_out,
)
from web.api.service.schemas import (
    ConsultationOut,
    QueueIn,
    QueueOut,
)
from web.api.spec import api_route
from web.db import db
from web.i18n import current_language
from web.identity import current_actor, ensure_shopper
from web.service import services

# --- talk now -------------------------------------------------------------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/queue",
    "POST",
    body=QueueIn,
    response=QueueOut,
    tag="consultations",
    summary="Ask to talk now: a place in the queue, or the offline answer at once",
    auth="shopper",
    example={"mode": "video", "language": "en"},
)
def consult_enqueue(brand_id: int, body: QueueIn) -> QueueOut:
    brand = _brand(brand_id)
    actor = ensure_shopper()
    result = queue.do_enqueue(db(), brand=brand, shopper_id=_shopper_id(actor), **body.model_dump())
    return queue_out(result)


@api_route(
    bp,
    "/brands/<int:brand_id>/offline",
    "GET",
    response=QueueOut,
    tag="consultations",
    summary="Is anyone online? If not, the brand's answer and the next opening",
)
def consult_offline_status(brand_id: int) -> QueueOut:
    brand = _brand(brand_id)
    if queue.online_associates(db(), brand_id):
        return QueueOut(id=None, status="online")
    return queue_out(queue.offline_answer(db(), brand, utcnow(), current_language()))


@api_route(
    bp,
    "/queue/<int:request_id>",
    "GET",
    response=QueueOut,
    tag="consultations",
    summary="My place in the queue (polled by the talk-now page)",
    auth="shopper",
)
def consult_queue_status(request_id: int) -> QueueOut:
    request = _own_request(request_id)
    return queue_out(request)  # a read: routing is the scheduler's and the POSTs' (GET is safe)


@api_route(
    bp,
    "/queue/<int:request_id>",
    "DELETE",
    response=QueueOut,
    tag="consultations",
    summary="Leave the queue",
    auth="shopper",
)
def consult_leave_queue(request_id: int) -> QueueOut:
    request = _own_request(request_id)
    actor = current_actor()
    assert actor.shopper_id is not None
    return queue_out(queue.do_cancel_request(db(), request, actor.shopper_id))


def _offered_request(request_id: int) -> tuple[QueueRequest, AssociateProfile]:
    request = get_or_404(db(), QueueRequest, request_id, N_("request"))
    actor = current_actor()
    access_brand_staff(actor, request.brand_id)
    return request, _profile(actor)


@api_route(
    bp,
    "/queue/<int:request_id>/accept",
    "POST",
    response=ConsultationOut,
    tag="consultations",
    summary="Accept a talk-now request offered to me",
    auth="staff",
)
def consult_accept(request_id: int) -> ConsultationOut:
    request, profile = _offered_request(request_id)
    assert profile.id is not None
    live = queue.do_accept(db(), request, profile.id, accept_seconds=services.accept_seconds())
    return consultation_out(live)


@api_route(
    bp,
    "/queue/<int:request_id>/decline",
    "POST",
    tag="consultations",
    summary="Let a request pass to a colleague",
    auth="staff",
)
def consult_decline(request_id: int) -> None:
    request, profile = _offered_request(request_id)
    assert profile.id is not None
    queue.do_decline(db(), request, profile.id)
