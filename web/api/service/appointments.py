"""Availability and appointments: find a slot, book, move, cancel, the waitlist."""

from __future__ import annotations

from datetime import date, timedelta

from flask import request
from flask_babel import gettext as _

from sessions.access import (
    access_host,
)
from sessions.catalogue import get_or_404
from sessions.clock import utcnow
from sessions.errors import NotFound
from sessions.i18n import N_
from sessions.models import (
    Appointment,
    AssociateProfile,
)
from sessions.service import appointments
from web.api import bp
from web.api.serializers import upload_url
from web.api.service.common import (
    _brand,
    _from_token,
    _shopper_id,
    appointment_out,
)
from web.api.service.schemas import (
    AppointmentIn,
    AppointmentOut,
    AssociateCancelIn,
    AssociateCardOut,
    AvailabilityQuery,
    CalendarDayOut,
    CancelIn,
    MonthOut,
    MonthQuery,
    RescheduleIn,
    SlotOut,
)
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor, ensure_shopper
from web.service import booking_calendar as cal
from web.service import services

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
    options = appointments.find_slots(
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
    "/brands/<int:brand_id>/availability/month",
    "GET",
    query=MonthQuery,
    response=MonthOut,
    tag="consultations",
    summary="A month of free consultation times by the shopper's local day (the booking "
    "calendar); month as YYYY-MM, tz an IANA zone; a bad month or zone is a 400",
)
def consult_availability_month(brand_id: int, query: MonthQuery) -> MonthOut:
    brand = _brand(brand_id)
    filters = cal.Filters(
        store_id=query.store_id,
        associate_id=query.associate_id,
        language=query.language,
        speciality=query.speciality,
    )
    month = cal.load_month(
        db(),
        brand_id,
        month=query.month,
        zone=query.tz,
        default_zone="UTC",
        filters=filters,
        now=utcnow(),
    )
    assert brand.id is not None
    return month_out(month, cal.team(db(), brand.id, filters))


def month_out(month: cal.Month, people: list[AssociateProfile]) -> MonthOut:
    def label(first: date | None) -> str | None:
        return first.strftime("%Y-%m") if first else None

    return MonthOut(
        month=month.first.strftime("%Y-%m"),
        zone=month.zone,
        today=month.today,
        first_weekday=cal.first_weekday(),
        previous_month=label(month.previous),
        next_month=label(month.next),
        days=[
            CalendarDayOut(date=day, slots=[SlotOut(**s.__dict__) for s in slots])
            for day, slots in month.days.items()
        ],
        next_free_day=month.next_free_day,
        associates=[
            AssociateCardOut(
                id=p.id or 0,
                name=p.display_name,
                photo_url=upload_url(p.photo_path),
                languages=cal.codes(p.languages),
                specialities=p.specialities,
            )
            for p in people
        ],
    )


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
    appointment = appointments.do_book(
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
    appointment = appointments.do_reschedule(db(), _from_token(token), starts_at=body.starts_at)
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
    appointment = appointments.do_cancel(db(), _from_token(token), by="shopper", reason=body.reason)
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
    appointments.do_join_waitlist(db(), appointment)
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
    appointment = get_or_404(db(), Appointment, appointment_id, N_("appointment"))
    live = appointments.consultation_of(db(), appointment)
    if live is None:
        raise NotFound(_("This appointment has no consultation."))
    access_host(current_actor(), live)
    appointments.do_cancel(db(), appointment, by="associate", reason=body.message)
    services.flush_outbox()
    return appointment_out(appointment)
