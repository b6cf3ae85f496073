"""The associate: status, their day, their record and the team's ranking, exceptions to hours."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlmodel import col, select

from sessions.access import (
    access_brand_admin,
)
from sessions.analytics import metrics
from sessions.catalogue import get_or_404
from sessions.clock import utcnow
from sessions.errors import NotFound
from sessions.i18n import N_, guest_name
from sessions.models import (
    AssociateStatus,
    AvailabilityException,
    LiveSession,
    OfflineMessage,
    QueueRequest,
    SessionKind,
    SessionStatus,
    Shopper,
)
from sessions.service import appointments, hours, queue
from web.api import bp
from web.api.service.common import (
    _managed_associate,
    appointment_out,
    consultation_out,
    exception_out,
    message_out,
    record_out,
)
from web.api.service.schemas import (
    ExceptionIn,
    ExceptionOut,
    QueueOfferOut,
    RecordOut,
    StatusIn,
    StatusOut,
    TodayOut,
)
from web.api.spec import api_route
from web.db import db
from web.i18n import current_language
from web.identity import current_actor
from web.service import services

# --- the associate's day -----------------------------------------------------------------


@api_route(
    bp,
    "/associates/<int:associate_id>/status",
    "PUT",
    body=StatusIn,
    response=StatusOut,
    tag="consultations",
    summary="Go online, away or offline (the associate, or their brand admin)",
    auth="staff",
    example={"status": "online"},
)
def consult_set_status(associate_id: int, body: StatusIn) -> StatusOut:
    profile = _managed_associate(associate_id)
    queue.do_set_status(db(), profile, AssociateStatus(body.status))
    return StatusOut(status=profile.status.value)


@api_route(
    bp,
    "/associates/<int:associate_id>/today",
    "GET",
    response=TodayOut,
    tag="consultations",
    summary="My day: appointments, offers, waiting shoppers, messages left",
    auth="staff",
)
def consult_today(associate_id: int) -> TodayOut:
    profile = _managed_associate(associate_id)
    assert profile.id is not None
    now = utcnow()
    day = appointments.appointments_between(
        db(), profile.id, now - timedelta(hours=2), now + timedelta(hours=24)
    )
    live_rows = (
        db()
        .exec(
            select(LiveSession)
            .where(
                LiveSession.associate_id == profile.id,
                LiveSession.kind == SessionKind.CONSULTATION,
                LiveSession.status != SessionStatus.ENDED,
            )
            .order_by(col(LiveSession.id))
        )
        .all()
    )
    return TodayOut(
        status=profile.status.value,
        appointments=[appointment_out(a) for a in day],
        offers=[_offer_out(r) for r in queue.offers_for(db(), profile.id)],
        waiting=len(queue.waiting_for_brand(db(), profile.brand_id)),
        messages=[message_out(m) for m in _open_messages(profile.brand_id)],
        consultations=[consultation_out(live) for live in live_rows],
    )


def _offer_out(request: QueueRequest) -> QueueOfferOut:
    assert request.id is not None
    shopper = db().get(Shopper, request.shopper_id)
    seconds = services.accept_seconds()
    return QueueOfferOut(
        id=request.id,
        mode=request.mode,
        language=request.language,
        shopper_name=(shopper.name if shopper and shopper.name else guest_name(current_language())),
        offered_at=request.offered_at,
        expires_at=request.offered_at + timedelta(seconds=seconds) if request.offered_at else None,
    )


def _open_messages(brand_id: int) -> list[OfflineMessage]:
    return list(
        db()
        .exec(
            select(OfflineMessage)
            .where(OfflineMessage.brand_id == brand_id, col(OfflineMessage.answered_at).is_(None))
            .order_by(col(OfflineMessage.created_at))
        )
        .all()
    )


# --- records and ranking -----------------------------------------------------------------


@api_route(
    bp,
    "/associates/<int:associate_id>/record",
    "GET",
    response=RecordOut,
    tag="consultations",
    summary="An associate's service record",
    auth="staff",
)
def consult_record(associate_id: int) -> RecordOut:
    profile = _managed_associate(associate_id)
    return record_out(metrics.associate_summary(db(), profile, *metrics.all_time()))


@api_route(
    bp,
    "/brands/<int:brand_id>/ranking",
    "GET",
    response=list[RecordOut],
    tag="consultations",
    summary="The brand's team ranking, all time (the analytics page's, per period)",
    auth="brand_admin",
)
def consult_ranking(brand_id: int) -> list[RecordOut]:
    access_brand_admin(current_actor(), brand_id)
    return [record_out(r) for r in metrics.team(db(), brand_id, *metrics.all_time())]


# --- exceptions to an associate's hours ------------------------------------------------


@api_route(
    bp,
    "/associates/<int:associate_id>/exceptions",
    "GET",
    response=list[ExceptionOut],
    tag="consultations",
    summary="Days off and replacement hours of an associate",
    auth="staff",
)
def consult_list_exceptions(associate_id: int) -> list[ExceptionOut]:
    _managed_associate(associate_id)
    rows = (
        db()
        .exec(
            select(AvailabilityException)
            .where(AvailabilityException.associate_id == associate_id)
            .order_by(col(AvailabilityException.day), col(AvailabilityException.start_time))
        )
        .all()
    )
    return [exception_out(r) for r in rows]


@api_route(
    bp,
    "/associates/<int:associate_id>/exceptions",
    "POST",
    body=ExceptionIn,
    response=ExceptionOut,
    status=201,
    tag="consultations",
    summary="Add a day off (no times) or replacement hours on a date (store's zone)",
    auth="staff",
    example={"day": "2030-12-24", "reason": "Christmas Eve"},
)
def consult_add_exception(associate_id: int, body: ExceptionIn) -> ExceptionOut:
    profile = _managed_associate(associate_id)
    row = hours.do_add_exception(
        db(),
        profile,
        day=body.day,
        start=body.start_time,
        end=body.end_time,
        store_id=body.store_id,
        reason=body.reason,
    )
    return exception_out(row)


@api_route(
    bp,
    "/associates/<int:associate_id>/exceptions/<int:exception_id>",
    "DELETE",
    tag="consultations",
    summary="Remove an exception",
    auth="staff",
)
def consult_remove_exception(associate_id: int, exception_id: int) -> None:
    _managed_associate(associate_id)
    row = get_or_404(db(), AvailabilityException, exception_id, N_("exception"))
    if row.associate_id != associate_id:
        raise NotFound(_("No exception with id %(id)s.", id=exception_id))
    hours.do_remove_exception(db(), row)
