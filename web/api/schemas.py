"""Request and response bodies of the API (pydantic). Strict: unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from sessions.clock import MAX_YEAR, MIN_YEAR, on_the_calendar
from sessions.money import MAX_PRICE_MINOR, MAX_STOCK

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=5000)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Money = Annotated[int, Field(ge=0, le=MAX_PRICE_MINOR, description="Amount in minor units (cents)")]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK)]
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _on_the_calendar(value: datetime) -> datetime:
    if not on_the_calendar(value):
        raise ValueError(f"choose a date between {MIN_YEAR} and {MAX_YEAR}")
    return value


# A date and time with its offset, within the years Vitrine plans around.
When = Annotated[AwareDatetime, AfterValidator(_on_the_calendar)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BrandOut(BaseModel):
    id: int
    slug: str
    name: str
    currency: str
    primary_color: str
    accent_color: str
    logo_url: str | None
    max_per_client: int


class BrandSettingsIn(Strict):
    name: Name | None = None
    primary_color: Colour | None = None
    accent_color: Colour | None = None
    offline_message: LongText | None = None
    blocked_words: LongText | None = None
    checkout_url_template: Annotated[str, StringConstraints(max_length=500)] | None = None
    checkout_webhook_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    reservation_minutes: Annotated[int, Field(ge=1, le=1440)] | None = None
    max_per_client: Annotated[int, Field(ge=1, le=99)] | None = None
    # Consultations are recorded only when this is on; the shopper is told (default off).
    record_consultations: bool | None = None
    # Remind me: the e-mail before a show goes this many minutes before its start (0: none).
    show_reminder_minutes: Annotated[int, Field(ge=0, le=1440)] | None = None
    # Retention, in days: chat, a consultation's recordings and pictures, guest shoppers.
    chat_retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    recording_retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    guest_retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None

    @field_validator("record_consultations")
    @classmethod
    def _true_or_false(cls, value: bool | None) -> bool:
        # Left out: unchanged. Sent: true or false, never null (the column is not nullable).
        if value is None:
            raise ValueError("record_consultations must be true or false")
        return value


Origin = Annotated[str, StringConstraints(max_length=300)]


class EmbedOriginsIn(Strict):
    origins: Annotated[
        list[Annotated[str, StringConstraints(max_length=300)]], Field(max_length=20)
    ]


class EmbedOriginsOut(BaseModel):
    origins: list[str]


class BrandSettingsOut(BrandOut):
    """What a brand admin sees of the settings; the webhook secret only once, when new."""

    offline_message: str
    blocked_words: str
    checkout_url_template: str | None
    checkout_webhook_url: str | None
    reservation_minutes: int
    show_reminder_minutes: int
    chat_retention_days: int
    recording_retention_days: int
    guest_retention_days: int
    has_webhook_secret: bool
    new_webhook_secret: str | None = Field(
        None, description="Set only in the answer that generated it: keep it, it is not shown again"
    )


class WebhookSecretOut(BaseModel):
    webhook_secret: str = Field(description="Shown only in this answer")


class StoreIn(Strict):
    name: Name
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    city: ShortText = ""
    address: ShortText = ""


class StoreOut(BaseModel):
    id: int
    brand_id: int
    name: str
    city: str
    timezone: str


class VariantIn(Strict):
    sku: Sku
    size: Annotated[str, StringConstraints(max_length=32)] = ""
    colour: Annotated[str, StringConstraints(max_length=48)] = ""
    colour_hex: Colour | None = None
    stock: Stock = 0
    price_minor: Money | None = None


class VariantPatch(Strict):
    stock: Stock | None = None
    price_minor: Money | None = None


class VariantOut(BaseModel):
    id: int
    product_id: int
    sku: str
    size: str
    colour: str
    colour_hex: str | None
    price_minor: int
    stock: int


class ProductIn(Strict):
    name: Name
    price_minor: Money
    currency: Currency | None = None
    description: LongText = ""
    category: Annotated[str, StringConstraints(max_length=80)] = ""
    variants: Annotated[list[VariantIn], Field(max_length=200)] = []


class ProductPatch(Strict):
    name: Name | None = None
    price_minor: Money | None = None
    description: LongText | None = None
    category: Annotated[str, StringConstraints(max_length=80)] | None = None
    is_active: bool | None = None


class ProductOut(BaseModel):
    id: int
    brand_id: int
    slug: str
    name: str
    description: str
    category: str
    price_minor: int
    currency: str
    image_url: str | None
    is_active: bool
    stock: int
    variants: list[VariantOut]


class ProductQuery(Strict):
    q: Annotated[str, StringConstraints(max_length=100)] | None = None
    category: Annotated[str, StringConstraints(max_length=80)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=10**6)] = 0


class AssociateIn(Strict):
    """An invitation: no password (the invited person chooses theirs from the e-mail)."""

    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    name: Name
    role: Literal["associate", "brand_admin"] = "associate"
    store_ids: Annotated[list[DbId], Field(max_length=20)] = []
    languages: Annotated[str, StringConstraints(max_length=120)] = "en"
    specialities: Annotated[str, StringConstraints(max_length=255)] = ""


class InvitationOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    state: str  # ready, accepted, revoked, expired
    sent: bool
    expires_at: datetime


class RoleIn(Strict):
    role: Literal["associate", "brand_admin"]


class ActiveIn(Strict):
    active: bool


class StaffOut(BaseModel):
    id: int
    name: str
    email: str
    role: str
    is_active: bool


class AssociateOut(BaseModel):
    id: int
    display_name: str
    languages: list[str]
    specialities: list[str]
    status: str
    photo_url: str | None
    store_ids: list[int]


class ShowIn(Strict):
    title: Name
    starts_at: When
    duration_minutes: Annotated[int, Field(ge=5, le=600)] = 45
    description: LongText = ""
    host_ids: Annotated[list[DbId], Field(max_length=10)] = []
    product_ids: Annotated[list[DbId], Field(max_length=100)] = []
    draft: bool = Field(False, description="Keep it as a draft (the brand's staff only)")


class ShowPatch(Strict):
    title: Name | None = None
    starts_at: When | None = None
    duration_minutes: Annotated[int, Field(ge=5, le=600)] | None = None
    description: LongText | None = None
    host_ids: Annotated[list[DbId], Field(max_length=10)] | None = None
    product_ids: Annotated[list[DbId], Field(max_length=100)] | None = None


class ShowOut(BaseModel):
    id: int
    brand_id: int
    title: str
    description: str
    starts_at: datetime
    duration_minutes: int
    status: str = Field(
        description="draft, scheduled, live, ended, replay_published, replay_hidden, cancelled"
    )
    cover_url: str | None
    replay_url: str | None = Field(description="Only once published (its staff: always)")
    replay_start_seconds: float
    replay_end_seconds: float | None
    live_session_id: int | None
    host_ids: list[int]
    product_ids: list[int]
    actions: list[str] = Field(
        description="What you may do to it now: schedule, cancel, start, end, publish_replay, "
        "hide_replay, trim_replay"
    )


ShowStatusName = Annotated[
    str,
    StringConstraints(
        pattern="^(draft|scheduled|live|ended|replay_published|replay_hidden|cancelled)$"
    ),
]


class ShowQuery(Strict):
    status: ShowStatusName | None = None


class ShowStateOut(BaseModel):
    show_id: int
    live_session_id: int
    status: str = Field(description="The show's state")


class TrimIn(Strict):
    start_seconds: Annotated[float, Field(ge=0, le=86400, allow_inf_nan=False)] = 0
    end_seconds: Annotated[float, Field(ge=0, le=86400, allow_inf_nan=False)] | None = None


class ReminderIn(Strict):
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]


class ReminderOut(BaseModel):
    show_id: int
    new: bool = Field(description="False: this address had already asked (nothing more sent)")
    message: str


class ReminderCountOut(BaseModel):
    show_id: int
    count: int = Field(description="Addresses that asked to be reminded (unsubscribed ones not)")


class UnsubscribeIn(Strict):
    token: Annotated[str, StringConstraints(max_length=500)]
