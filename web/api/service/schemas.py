"""The consultation API's request and response bodies, named for the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from web.api.schemas import When

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


class MonthQuery(Strict):
    # Read by the view, not by a pattern here: a bad month or zone is a 400 with a
    # sentence the booking page shows as it is (web/service/booking_calendar.py).
    month: Annotated[str, StringConstraints(max_length=16)] | None = None
    tz: Annotated[str, StringConstraints(max_length=64)] | None = None
    store_id: DbId | None = None
    associate_id: DbId | None = None
    language: Lang | None = None
    speciality: Annotated[str, StringConstraints(max_length=80)] | None = None


class CalendarDayOut(BaseModel):
    date: date  # the shopper's local day
    slots: list[SlotOut]


class AssociateCardOut(BaseModel):
    id: int
    name: str
    photo_url: str | None
    languages: list[str]  # ISO 639-1 codes
    specialities: str


class MonthOut(BaseModel):
    month: str  # "2026-12"
    zone: str
    today: date  # in `zone`
    first_weekday: int  # 0 = Monday: where the locale starts its week
    previous_month: str | None
    next_month: str | None
    days: list[CalendarDayOut]  # only the days with a free time
    next_free_day: date | None  # when this month has none
    associates: list[AssociateCardOut]  # who matches the filters


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
    shopper_name: str | None = None
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


class QueueOfferOut(BaseModel):
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


class ConsultationTransferIn(Strict):
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
    # The shopper's answer to keeping the recording and pictures: accepted, declined, None.
    consent: str | None = None


class ConsultationGrantIn(Strict):
    role: Literal["publish", "view"]
    side: Literal["associate", "shopper"]


class ConsultationGrantOut(BaseModel):
    relay_url: str
    grant: str
    room: str
    ice_servers: list[dict[str, object]]
    ice_transport_policy: Literal["all", "relay"] = Field(
        "all",
        description='"relay": TURN only (RTCConfiguration.iceTransportPolicy)',
    )


class MessageIn(Strict):
    name: Text120
    email: Email
    body: Body


class LeftMessageOut(BaseModel):
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
    """An associate's record, all time: the figures of docs/analytics.md (per associate)."""

    associate_id: int
    name: str
    consultations_held: int
    chats: int
    first_response_seconds: float | None  # chat threads, the first wait of each chat
    average_response_seconds: float | None  # chat threads, every wait
    rating: float | None
    ratings_count: int
    bag_value_minor: int
    attributed_revenue_minor: int


class TodayOut(BaseModel):
    status: str
    appointments: list[AppointmentOut]
    offers: list[QueueOfferOut]
    waiting: int
    messages: list[LeftMessageOut]
    consultations: list[ConsultationOut]


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
