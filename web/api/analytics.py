"""Analytics over HTTP: the shop's signed order webhook, and the figures for a brand's BI.

Figures are computed from stored events on every call (sessions/analytics/metrics.py,
definitions in docs/analytics.md); brand admins read their brand's, an associate
their own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from sessions.access import access_associate_analytics, access_brand_analytics
from sessions.analytics import metrics
from sessions.analytics import orders as shop_orders
from sessions.catalogue import get_or_404
from sessions.errors import N_, InvalidInput
from sessions.models import AssociateProfile, Brand, Order, Show
from sessions.shows.lifecycle import live_session_for_show
from web.api import bp
from web.api.schemas import Currency, DbId, Money, Sku, Strict
from web.api.spec import BadJSON, api_route
from web.db import db
from web.identity import current_actor

MAX_PERIOD_DAYS = 366

# --- the order webhook ---------------------------------------------------------------

OrderId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class OrderLineIn(BaseModel):
    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=10_000)]
    unit_price_minor: Money


class OrderCreatedIn(BaseModel):
    """Unknown fields are ignored: a shop may send more than Vitrine reads."""

    event: Literal["order.created"]
    order_id: OrderId
    bag_id: DbId | None = None
    handoff_id: DbId | None = None
    lines: Annotated[list[OrderLineIn], Field(max_length=500)] = []
    total_minor: Money
    currency: Currency

    @model_validator(mode="after")
    def _names_a_bag(self) -> OrderCreatedIn:
        if self.bag_id is None and self.handoff_id is None:
            raise ValueError("give the bag_id or the handoff_id the hand-off carried")
        return self


class OrderRefundedIn(BaseModel):
    event: Literal["order.refunded"]
    order_id: OrderId
    refunded_total_minor: Money


OrderEventIn = Annotated[OrderCreatedIn | OrderRefundedIn, Field(discriminator="event")]


class OrderEventDoc(BaseModel):
    """The webhook body: `order.created` (bag or hand-off id, lines, total) or `order.refunded`."""

    event: Literal["order.created", "order.refunded"]
    order_id: OrderId
    bag_id: DbId | None = None
    handoff_id: DbId | None = None
    lines: list[OrderLineIn] = []
    total_minor: Money | None = None
    currency: Currency | None = None
    refunded_total_minor: Money | None = None


class OrderOut(BaseModel):
    id: int
    order_id: str
    duplicate: bool
    attribution: str
    live_session_id: int | None
    mode: str
    total_minor: int
    refunded_minor: int
    currency: str


def _order_event(raw: bytes) -> OrderCreatedIn | OrderRefundedIn:
    try:
        return TypeAdapter(OrderEventIn).validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise BadJSON("The body is not valid JSON.") from None
        first = exc.errors()[0]
        loc = (
            first["loc"][1:]
            if first["loc"][:1] in (("order.created",), ("order.refunded",))
            else first["loc"]
        )
        where = ".".join(str(p) for p in loc) or "body"
        raise InvalidInput(
            N_("%(field)s: %(problem)s"),
            params={"field": where, "problem": first["msg"]},
            field=where,
        ) from None


def _order_out(order: Order, duplicate: bool) -> OrderOut:
    assert order.id is not None
    return OrderOut(
        id=order.id,
        order_id=order.external_id,
        duplicate=duplicate,
        attribution=order.attribution,
        live_session_id=order.live_session_id,
        mode=order.mode,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        currency=order.currency,
    )


@api_route(
    bp,
    "/brands/<int:brand_id>/orders",
    "POST",
    response=OrderOut,
    doc_body=OrderEventDoc,
    tag="analytics",
    summary=(
        "The brand's shop confirms an order or a refund (webhook signed with the brand's "
        "secret in X-Vitrine-Signature; idempotent on order_id)"
    ),
)
def receive_order(brand_id: int) -> tuple[OrderOut, int]:
    brand = get_or_404(db(), Brand, brand_id, N_("brand"))
    raw = request.get_data(cache=True)
    shop_orders.check_signature(brand, request.headers.get(shop_orders.SIGNATURE_HEADER), raw)
    event = _order_event(raw)
    if isinstance(event, OrderRefundedIn):
        order = shop_orders.do_refund_order(db(), brand, event.order_id, event.refunded_total_minor)
        return _order_out(order, duplicate=False), 200
    received = shop_orders.do_receive_order(
        db(),
        brand,
        shop_orders.NewOrder(
            external_id=event.order_id,
            total_minor=event.total_minor,
            currency=event.currency,
            lines=[shop_orders.OrderLine(**line.model_dump()) for line in event.lines],
            bag_id=event.bag_id,
            handoff_id=event.handoff_id,
        ),
    )
    return _order_out(received.order, received.duplicate), 200 if received.duplicate else 201


# --- figures ---------------------------------------------------------------------------


class PeriodQuery(Strict):
    start: date | None = Field(default=None, description="First day (UTC), included")
    end: date | None = Field(default=None, description="Last day (UTC), included")


def period_of(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """[first day 00:00, day after the last 00:00) in UTC; the last 30 days by default."""
    if start is None and end is None:
        return metrics.default_period()
    last = end or datetime.now(UTC).date()
    first = start or last - timedelta(days=29)
    if first > last:
        raise InvalidInput(_("The period's start comes after its end."), field="start")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(_("Ask for at most %(n)s days.", n=MAX_PERIOD_DAYS), field="start")
    return (
        datetime.combine(first, time(), UTC),
        datetime.combine(last + timedelta(days=1), time(), UTC),
    )


class ShowAnalyticsOut(BaseModel):
    summary: metrics.ShowSummary


class BrandAnalyticsOut(BaseModel):
    summary: metrics.BrandSummary


class AssociateAnalyticsOut(BaseModel):
    start: datetime
    end: datetime
    summary: metrics.AssociateSummary


@api_route(
    bp,
    "/shows/<int:show_id>/analytics",
    "GET",
    response=ShowAnalyticsOut,
    tag="analytics",
    summary="A show's figures: viewers live and replay, watch time, engagement, sales",
    auth="brand_admin",
)
def show_analytics(show_id: int) -> ShowAnalyticsOut:
    show = get_or_404(db(), Show, show_id, N_("show"))
    access_brand_analytics(current_actor(), show.brand_id)
    summary = metrics.show_summary(db(), live_session_for_show(db(), show))
    return ShowAnalyticsOut(summary=summary)


@api_route(
    bp,
    "/brands/<int:brand_id>/analytics",
    "GET",
    query=PeriodQuery,
    response=BrandAnalyticsOut,
    tag="analytics",
    summary="A brand's figures over a period, the previous period beside it, shows and team",
    auth="brand_admin",
)
def brand_analytics(brand_id: int, query: PeriodQuery) -> BrandAnalyticsOut:
    get_or_404(db(), Brand, brand_id, N_("brand"))
    access_brand_analytics(current_actor(), brand_id)
    start, end = period_of(query.start, query.end)
    return BrandAnalyticsOut(summary=metrics.brand_summary(db(), brand_id, start, end))


@api_route(
    bp,
    "/associates/<int:associate_id>/analytics",
    "GET",
    query=PeriodQuery,
    response=AssociateAnalyticsOut,
    tag="analytics",
    summary="An associate's figures over a period (the associate, or their brand's admin)",
    auth="staff",
)
def associate_analytics(associate_id: int, query: PeriodQuery) -> AssociateAnalyticsOut:
    associate = get_or_404(db(), AssociateProfile, associate_id, N_("associate"))
    access_associate_analytics(current_actor(), associate.brand_id, associate_id)
    start, end = period_of(query.start, query.end)
    return AssociateAnalyticsOut(
        start=start, end=end, summary=metrics.associate_summary(db(), associate, start, end)
    )
