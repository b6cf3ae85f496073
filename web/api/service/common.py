"""What the consultation API's routes share: lookups and the shapes they return."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from sessions.access import (
    Actor,
    access_associate,
    access_queue_request,
)
from sessions.analytics import metrics
from sessions.catalogue import get_or_404
from sessions.errors import Conflict, NotFound
from sessions.i18n import N_, guest_name
from sessions.models import (
    Appointment,
    AssociateProfile,
    AvailabilityException,
    Brand,
    LiveSession,
    OfflineMessage,
    QueueRequest,
    SessionKind,
    SessionStatus,
    Shopper,
)
from sessions.privacy.consent import consent_state
from sessions.service import appointments, queue
from web.api.service.schemas import (
    AppointmentOut,
    ConsultationOut,
    ExceptionOut,
    LeftMessageOut,
    OfflineOut,
    QueueOut,
    RecordOut,
)
from web.db import db
from web.i18n import current_language
from web.identity import current_actor
from web.service import services


def _brand(brand_id: int) -> Brand:
    return get_or_404(db(), Brand, brand_id, N_("brand"))


def _profile(actor: Actor) -> AssociateProfile:
    if actor.associate_id is None:
        # Staff of the brand, just not an associate: nothing to refuse, nothing to do either.
        raise Conflict(
            "You have no associate profile: sign in as an associate to take consultations.",
            code="no_associate_profile",
        )
    return get_or_404(db(), AssociateProfile, actor.associate_id, N_("associate"))


def _shopper_id(actor: Actor) -> int:
    if actor.shopper_id is not None:
        return actor.shopper_id
    # Staff booking on a customer's behalf (a phone call): the customer gets their own identity.
    shopper = appointments.do_create_customer_for_staff(db())
    assert shopper.id is not None
    return shopper.id


def appointment_out(appointment: Appointment, *, with_links: bool = False) -> AppointmentOut:
    assert appointment.id is not None
    live = appointments.consultation_of(db(), appointment)
    links = services.links()
    return AppointmentOut(
        id=appointment.id,
        status=appointment.status.value,
        associate_id=appointment.associate_id,
        store_id=appointment.store_id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        live_session_id=live.id if live else None,
        shopper_name=appointment.shopper_name,
        manage_url=links.manage_url(appointment) if with_links else None,
        join_url=links.join_url(appointment) if with_links else None,
    )


def _from_token(token: str) -> Appointment:
    return appointments.appointment_from_token(db(), current_app.config["SECRET_KEY"], token)


def queue_out(result: QueueRequest | queue.OfflineAnswer) -> QueueOut:
    if isinstance(result, queue.OfflineAnswer):
        return QueueOut(
            id=None,
            status="offline",
            offline=OfflineOut(message=result.message, next_opening=result.next_opening),
        )
    live = queue.live_session_of(db(), result)
    place = queue.position_of(db(), result) if result.status in queue.OPEN else None
    return QueueOut(
        id=result.id,
        status=result.status.value,
        position=place.position if place else None,
        estimated_wait_seconds=place.estimated_wait_seconds if place else None,
        live_session_id=live.id if live else None,
    )


def _own_request(request_id: int) -> QueueRequest:
    request = get_or_404(db(), QueueRequest, request_id, N_("request"))
    access_queue_request(current_actor(), request)
    return request


def _consultation(live_session_id: int) -> LiveSession:
    live = get_or_404(db(), LiveSession, live_session_id, N_("consultation"))
    if live.kind is not SessionKind.CONSULTATION:
        raise NotFound(_("No consultation with id %(id)s.", id=live_session_id))
    return live


def consultation_out(live: LiveSession) -> ConsultationOut:
    assert live.id is not None
    profile = db().get(AssociateProfile, live.associate_id) if live.associate_id else None
    shopper = db().get(Shopper, live.shopper_id) if live.shopper_id else None
    appointment = db().get(Appointment, live.appointment_id) if live.appointment_id else None
    shopper_name = appointment.shopper_name if appointment else (shopper.name if shopper else None)
    return ConsultationOut(
        id=live.id,
        status=live.status.value,
        room=live.room,
        shopper_waiting=live.shopper_arrived_at is not None
        and live.status is not SessionStatus.LIVE,
        associate_id=live.associate_id,
        associate_name=profile.display_name if profile else None,
        shopper_name=shopper_name or guest_name(current_language()),
        starts_at=appointment.starts_at if appointment else live.started_at,
        consent=consent_state(db(), live),
    )


def message_out(message: OfflineMessage) -> LeftMessageOut:
    assert message.id is not None
    return LeftMessageOut(
        id=message.id,
        name=message.name,
        email=message.email,
        body=message.body,
        created_at=message.created_at,
        answered_at=message.answered_at,
        answer=message.answer,
    )


def record_out(row: metrics.AssociateSummary) -> RecordOut:
    return RecordOut(
        associate_id=row.associate_id,
        name=row.name,
        consultations_held=row.consultations,
        chats=row.chats,
        first_response_seconds=row.first_response_seconds_average,
        average_response_seconds=row.response_seconds_average,
        rating=row.rating_average,
        ratings_count=row.ratings,
        bag_value_minor=row.bag_value_minor,
        attributed_revenue_minor=row.attributed_revenue_minor,
    )


def _managed_associate(associate_id: int) -> AssociateProfile:
    """The associate themself, or their brand's admin (hours, status, their day)."""
    profile = get_or_404(db(), AssociateProfile, associate_id, N_("associate"))
    access_associate(current_actor(), profile)
    return profile


def exception_out(row: AvailabilityException) -> ExceptionOut:
    assert row.id is not None
    return ExceptionOut(
        id=row.id,
        day=row.day,
        start_time=row.start_time,
        end_time=row.end_time,
        store_id=row.store_id,
        reason=row.reason,
    )
