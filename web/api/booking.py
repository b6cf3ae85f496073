"""Consultations: availability, appointments, the talk-now queue, messages left, ratings."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from flask import current_app, request
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import col, select

from sessions import booking, queue, ratings
from sessions.access import (
    Actor,
    MediaSide,
    access_associate,
    access_brand_admin,
    access_brand_staff,
    access_host,
    access_join,
    access_media,
    access_queue_request,
    access_shopper_side,
)
from sessions.catalogue import get_or_404
from sessions.clock import utcnow
from sessions.errors import Conflict, NotFound
from sessions.grants import issue_grant
from sessions.models import (
    Appointment,
    AssociateProfile,
    AssociateStatus,
    AvailabilityException,
    Brand,
    LiveSession,
    OfflineMessage,
    QueueRequest,
    SessionKind,
    SessionStatus,
    Shopper,
)
from web.api import bp
from web.api.schemas import When
from web.api.spec import api_route
from web.booking import services
from web.db import db
from web.identity import current_actor, ensure_shopper
from web.relay import grant_claims

Text120 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Lang = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
# Checked by the domain (normalise_email), which says what is wrong in words.
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]


class Strict(BaseModel):
    model_config = {"extra": "forbid"}


# --- schemas -------------------------------------------------------------------


class AvailabilityQuery(Strict):
    start: When | None = None
    days: Annotated[int, Field(ge=1, le=31)] = 7
    store_id: DbId | None = None
    associate_id: DbId | None = None
    language: Lang | None = None
    speciality: Annotated[str, StringConstraints(max_length=80)] | None = None


class SlotOut(BaseModel):
    associate_id: int
    associate_name: str
    store_id: int
    starts_at: datetime
    ends_at: datetime


class AppointmentIn(Strict):
    associate_id: DbId
    store_id: DbId
    starts_at: When
    name: Text120
    email: Email
    timezone: Zone = "UTC"
    language: Lang = "en"
    notes: Annotated[str, StringConstraints(max_length=2000)] = ""
    waitlist: bool = False


class AppointmentOut(BaseModel):
    id: int
    status: str
    associate_id: int
    store_id: int
    starts_at: datetime
    ends_at: datetime
    live_session_id: int | None
    manage_url: str | None = None
    join_url: str | None = None


class RescheduleIn(Strict):
    starts_at: When


class CancelIn(Strict):
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class AssociateCancelIn(Strict):
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class QueueIn(Strict):
    mode: Literal["chat", "video"] = "chat"
    language: Lang = "en"
    store_id: DbId | None = None


class OfflineOut(BaseModel):
    message: str
    next_opening: datetime | None


class QueueOut(BaseModel):
    id: int | None
    status: str
    position: int | None = None
    estimated_wait_seconds: int | None = None
    live_session_id: int | None = None
    offline: OfflineOut | None = None


class OfferOut(BaseModel):
    id: int
    mode: str
    language: str
    shopper_name: str
    offered_at: datetime | None
    expires_at: datetime | None


class StatusIn(Strict):
    status: Literal["online", "away", "offline"]


class StatusOut(BaseModel):
    status: str


class TransferIn(Strict):
    associate_id: DbId


class ConsultationOut(BaseModel):
    id: int
    status: str
    room: str
    shopper_waiting: bool
    associate_id: int | None
    associate_name: str | None
    shopper_name: str | None
    starts_at: datetime | None


class GrantIn(Strict):
    role: Literal["publish", "view"]
    side: Literal["associate", "shopper"]


class GrantOut(BaseModel):
    relay_url: str
    grant: str
    room: str
    ice_servers: list[dict[str, object]]


class MessageIn(Strict):
    name: Text120
    email: Email
    body: Body


class MessageOut(BaseModel):
    id: int
    name: str
    email: str
    body: str
    created_at: datetime
    answered_at: datetime | None
    answer: str


class AnswerIn(Strict):
    answer: Body


class RatingIn(Strict):
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


class RatingOut(BaseModel):
    id: int
    score: int
    comment: str


class RecordOut(BaseModel):
    associate_id: int
    name: str
    consultations_held: int
    first_response_seconds: float | None
    average_response_seconds: float | None
    rating: float | None
    ratings_count: int
    bag_value_minor: int


class TodayOut(BaseModel):
    status: str
    appointments: list[AppointmentOut]
    offers: list[OfferOut]
    waiting: int
    messages: list[MessageOut]
    consultations: list[ConsultationOut]


# --- helpers --------------------------------------------------------------------


def _brand(brand_id: int) -> Brand:
    return get_or_404(db(), Brand, brand_id, "brand")


def _profile(actor: Actor) -> AssociateProfile:
    if actor.associate_id is None:
        # Staff of the brand, just not an associate: nothing to refuse, nothing to do either.
        raise Conflict(
            "You have no associate profile: sign in as an associate to take consultations.",
            code="no_associate_profile",
        )
    return get_or_404(db(), AssociateProfile, actor.associate_id, "associate")


def _shopper_id(actor: Actor) -> int:
    if actor.shopper_id is not None:
        return actor.shopper_id
    # Staff booking on a customer's behalf (a phone call): the customer gets their own identity.
    shopper = booking.do_create_customer_for_staff(db())
    assert shopper.id is not None
    return shopper.id


def appointment_out(appointment: Appointment, *, with_links: bool = False) -> AppointmentOut:
    assert appointment.id is not None
    live = booking.consultation_of(db(), appointment)
    links = services.links()
    return AppointmentOut(
        id=appointment.id,
        status=appointment.status.value,
        associate_id=appointment.associate_id,
        store_id=appointment.store_id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        live_session_id=live.id if live else None,
        manage_url=links.manage_url(appointment) if with_links else None,
        join_url=links.join_url(appointment) if with_links else None,
    )


def _from_token(token: str) -> Appointment:
    return booking.appointment_from_token(db(), current_app.config["SECRET_KEY"], token)


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
    request = get_or_404(db(), QueueRequest, request_id, "request")
    access_queue_request(current_actor(), request)
    return request


def _consultation(live_session_id: int) -> LiveSession:
    live = get_or_404(db(), LiveSession, live_session_id, "consultation")
    if live.kind is not SessionKind.CONSULTATION:
        raise NotFound(f"No consultation with id {live_session_id}.")
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
        shopper_name=shopper_name or "Guest",
        starts_at=appointment.starts_at if appointment else live.started_at,
    )


def message_out(message: OfflineMessage) -> MessageOut:
    assert message.id is not None
    return MessageOut(
        id=message.id,
        name=message.name,
        email=message.email,
        body=message.body,
        created_at=message.created_at,
        answered_at=message.answered_at,
        answer=message.answer,
    )


def record_out(record: ratings.AssociateRecord) -> RecordOut:
    return RecordOut(**record.__dict__)


# --- availability and appointments -----------------------------------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/availability",
    "GET",
    query=AvailabilityQuery,
    response=list[SlotOut],
    tag="consultations",
    summary="Free consultation slots (UTC), filtered by store, associate, language, speciality",
)
def consult_availability(brand_id: int, query: AvailabilityQuery) -> list[SlotOut]:
    _brand(brand_id)
    start = query.start or utcnow()
    options = booking.find_slots(
        db(),
        brand_id,
        start=start,
        end=start + timedelta(days=query.days),
        store_id=query.store_id,
        associate_id=query.associate_id,
        language=query.language,
        speciality=query.speciality,
    )
    return [SlotOut(**o.__dict__) for o in options]


@api_route(
    bp,
    "/brands/<int:brand_id>/appointments",
    "POST",
    body=AppointmentIn,
    response=AppointmentOut,
    status=201,
    tag="consultations",
    summary="Book a consultation slot (409 if someone took it first)",
    auth="shopper",
    example={
        "associate_id": 1,
        "store_id": 1,
        "starts_at": "2030-03-04T09:00:00Z",
        "name": "Camille",
        "email": "camille@example.com",
        "timezone": "Europe/Paris",
    },
)
def consult_book(brand_id: int, body: AppointmentIn) -> AppointmentOut:
    _brand(brand_id)
    actor = ensure_shopper()
    appointment = booking.do_book(
        db(),
        brand_id=brand_id,
        shopper_id=_shopper_id(actor),
        client=request.remote_addr,
        **body.model_dump(),
    )
    services.flush_outbox()
    return appointment_out(appointment, with_links=True)


@api_route(
    bp,
    "/appointments/<token>",
    "GET",
    response=AppointmentOut,
    tag="consultations",
    summary="An appointment, by its signed manage link",
)
def consult_get_appointment(token: str) -> AppointmentOut:
    return appointment_out(_from_token(token))


@api_route(
    bp,
    "/appointments/<token>/reschedule",
    "POST",
    body=RescheduleIn,
    response=AppointmentOut,
    tag="consultations",
    summary="Move an appointment to another free slot, by its signed link",
)
def consult_reschedule(token: str, body: RescheduleIn) -> AppointmentOut:
    appointment = booking.do_reschedule(db(), _from_token(token), starts_at=body.starts_at)
    services.flush_outbox()
    return appointment_out(appointment)


@api_route(
    bp,
    "/appointments/<token>/cancel",
    "POST",
    body=CancelIn,
    response=AppointmentOut,
    tag="consultations",
    summary="Cancel an appointment, by its signed link",
)
def consult_cancel(token: str, body: CancelIn) -> AppointmentOut:
    appointment = booking.do_cancel(db(), _from_token(token), by="shopper", reason=body.reason)
    services.flush_outbox()
    return appointment_out(appointment)


@api_route(
    bp,
    "/appointments/<token>/waitlist",
    "POST",
    response=AppointmentOut,
    tag="consultations",
    summary="Tell me if an earlier slot opens",
)
def consult_join_waitlist(token: str) -> AppointmentOut:
    appointment = _from_token(token)
    booking.do_join_waitlist(db(), appointment)
    return appointment_out(appointment)


@api_route(
    bp,
    "/console/appointments/<int:appointment_id>/cancel",
    "POST",
    body=AssociateCancelIn,
    response=AppointmentOut,
    tag="consultations",
    summary="The associate cancels, with a message to the shopper",
    auth="staff",
    example={"message": "I am unwell today, sorry. Please book another time."},
)
def consult_associate_cancel(appointment_id: int, body: AssociateCancelIn) -> AppointmentOut:
    appointment = get_or_404(db(), Appointment, appointment_id, "appointment")
    live = booking.consultation_of(db(), appointment)
    if live is None:
        raise NotFound("This appointment has no consultation.")
    access_host(current_actor(), live)
    booking.do_cancel(db(), appointment, by="associate", reason=body.message)
    services.flush_outbox()
    return appointment_out(appointment)


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
    return consultation_out(booking.do_arrive(db(), live))


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
    return consultation_out(booking.do_admit(db(), live))


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
    return consultation_out(queue.do_end_consultation(db(), live))


@api_route(
    bp,
    "/consultations/<int:consultation_id>/transfer",
    "POST",
    body=TransferIn,
    response=ConsultationOut,
    tag="consultations",
    summary="Hand the consultation to a colleague",
    auth="staff",
    example={"associate_id": 2},
)
def consult_transfer(consultation_id: int, body: TransferIn) -> ConsultationOut:
    live = _consultation(consultation_id)
    access_host(current_actor(), live)
    return consultation_out(queue.do_transfer(db(), live, body.associate_id))


@api_route(
    bp,
    "/consultations/<int:consultation_id>/media-grant",
    "POST",
    body=GrantIn,
    response=GrantOut,
    tag="consultations",
    summary="A relay grant for one side of the consultation's 1:1 video",
)
def consult_media_grant(consultation_id: int, body: GrantIn) -> GrantOut:
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
    return GrantOut(
        relay_url=config["RELAY_URL"], grant=grant, room=room, ice_servers=config["ICE_SERVERS"]
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
    return queue_out(queue.offline_answer(db(), brand, utcnow()))


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
    request = get_or_404(db(), QueueRequest, request_id, "request")
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
    day = booking.appointments_between(
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


def _offer_out(request: QueueRequest) -> OfferOut:
    assert request.id is not None
    shopper = db().get(Shopper, request.shopper_id)
    seconds = services.accept_seconds()
    return OfferOut(
        id=request.id,
        mode=request.mode,
        language=request.language,
        shopper_name=(shopper.name if shopper and shopper.name else "Guest"),
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


# --- messages left ----------------------------------------------------------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/messages",
    "POST",
    body=MessageIn,
    response=MessageOut,
    status=201,
    tag="consultations",
    summary="Leave a message when nobody is online",
    auth="shopper",
)
def consult_leave_message(brand_id: int, body: MessageIn) -> MessageOut:
    _brand(brand_id)
    actor = ensure_shopper()
    message = queue.do_leave_message(
        db(), brand_id=brand_id, shopper_id=actor.shopper_id, **body.model_dump()
    )
    return message_out(message)


@api_route(
    bp,
    "/brands/<int:brand_id>/messages",
    "GET",
    response=list[MessageOut],
    tag="consultations",
    summary="Messages left for the brand, unanswered first",
    auth="staff",
)
def consult_list_messages(brand_id: int) -> list[MessageOut]:
    access_brand_staff(current_actor(), brand_id)
    rows = (
        db()
        .exec(
            select(OfflineMessage)
            .where(OfflineMessage.brand_id == brand_id)
            .order_by(col(OfflineMessage.answered_at).is_not(None), col(OfflineMessage.created_at))
        )
        .all()
    )
    return [message_out(m) for m in rows]


@api_route(
    bp,
    "/messages/<int:message_id>/answer",
    "POST",
    body=AnswerIn,
    response=MessageOut,
    tag="consultations",
    summary="Answer a message; the shopper gets it by e-mail",
    auth="staff",
    example={"answer": "Yes, it comes in sky blue too."},
)
def consult_answer_message(message_id: int, body: AnswerIn) -> MessageOut:
    message = get_or_404(db(), OfflineMessage, message_id, "message")
    actor = current_actor()
    access_brand_staff(actor, message.brand_id)
    profile = db().get(AssociateProfile, actor.associate_id) if actor.associate_id else None
    queue.do_answer_message(
        db(), message, body.answer, services.mailer(), by=profile, by_name=actor.name
    )
    return message_out(message)


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
    return record_out(ratings.associate_record(db(), _managed_associate(associate_id)))


@api_route(
    bp,
    "/brands/<int:brand_id>/ranking",
    "GET",
    response=list[RecordOut],
    tag="consultations",
    summary="The brand's service ranking of associates",
    auth="brand_admin",
)
def consult_ranking(brand_id: int) -> list[RecordOut]:
    access_brand_admin(current_actor(), brand_id)
    return [record_out(r) for r in ratings.brand_ranking(db(), brand_id)]


# --- exceptions to an associate's hours ------------------------------------------------


class ExceptionIn(Strict):
    day: date
    start_time: time | None = None
    end_time: time | None = None
    store_id: DbId | None = None
    reason: Annotated[str, StringConstraints(max_length=200)] = ""


class ExceptionOut(BaseModel):
    id: int
    day: date
    start_time: time | None
    end_time: time | None
    store_id: int | None
    reason: str


def _managed_associate(associate_id: int) -> AssociateProfile:
    """The associate themself, or their brand's admin (hours, status, their day)."""
    profile = get_or_404(db(), AssociateProfile, associate_id, "associate")
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
    row = booking.do_add_exception(
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
    row = get_or_404(db(), AvailabilityException, exception_id, "exception")
    if row.associate_id != associate_id:
        raise NotFound(f"No exception with id {exception_id}.")
    booking.do_remove_exception(db(), row)
