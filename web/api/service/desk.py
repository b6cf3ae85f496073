"""The associate's tools in a conversation, as JSON: a product card (the shopper's side
draws it too), whom to transfer a thread to, the shopper's history at the brand.

Searching the catalogue is ``GET /api/brands/{id}/products?q=`` (name, category, SKU);
sending a card is ``POST /api/threads/{id}/messages`` with a ``product_id``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from sessions.service import desk, threads
from web.api import bp
from web.api.live import ProductCard
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor

TAG = "threads"


class ThreadProductCard(ProductCard):
    stock_state: str = Field(description="in, low (a few left) or out")


class ColleagueOut(BaseModel):
    id: int
    name: str
    store: str | None
    languages: list[str]
    load: int = Field(description="Conversations they hold or are offered, chat and video")
    cap: int = Field(description="Their cap of parallel conversations")
    has_room: bool


class StoreChoice(BaseModel):
    id: int
    name: str
    city: str
    current: bool = Field(description="The thread's store already")


class TransferOptions(BaseModel):
    colleagues: list[ColleagueOut] = Field(description="Colleagues present now, free first")
    stores: list[StoreChoice]


class HistoryShopper(BaseModel):
    name: str | None
    since: datetime


class HistoryProduct(BaseModel):
    id: int
    name: str


class HistoryThread(BaseModel):
    since: datetime
    questions: int
    answers: int
    answered_by: list[str]


class HistoryQuestion(BaseModel):
    id: int
    at: datetime
    body: str
    product_id: int | None
    product: str | None


class HistoryAppointment(BaseModel):
    id: int
    starts_at: datetime
    status: str
    associate: str | None
    store: str
    notes: str


class HistoryCall(BaseModel):
    id: int
    started_at: datetime | None
    ended_at: datetime | None
    associate: str | None
    booked: bool


class HistoryBagLine(BaseModel):
    product_id: int
    name: str
    size: str
    colour: str
    quantity: int
    unit_price_minor: int


class HistoryBag(BaseModel):
    count: int
    total_minor: int
    currency: str
    lines: list[HistoryBagLine]


class HistoryOrder(BaseModel):
    id: int
    at: datetime
    total_minor: int
    refunded_minor: int
    currency: str


class HistoryShow(BaseModel):
    id: int
    title: str
    at: datetime | None


class ShopperHistory(BaseModel):
    thread_id: int
    shopper: HistoryShopper
    product: HistoryProduct | None = Field(description="What the conversation is about")
    thread: HistoryThread
    recent_questions: list[HistoryQuestion]
    appointments: list[HistoryAppointment]
    video_calls: list[HistoryCall]
    bag: HistoryBag | None = Field(
        description="The open bag at the brand (to the associate holding the thread, admins)"
    )
    orders: list[HistoryOrder] | None = Field(description="As the bag: None to a colleague")
    shows_watched: list[HistoryShow]


@api_route(
    bp,
    "/products/<int:product_id>/card",
    "GET",
    response=ThreadProductCard,
    tag=TAG,
    summary="A product card as a thread shows it: photo, name, price, stock, its page",
)
def product_card(product_id: int) -> ThreadProductCard:
    return ThreadProductCard.model_validate(desk.product_card(db(), current_actor(), product_id))


@api_route(
    bp,
    "/threads/<int:thread_id>/transfer-options",
    "GET",
    response=TransferOptions,
    tag=TAG,
    summary="Whom I may hand this thread to: colleagues present (with their load), stores",
    auth="staff",
)
def thread_transfer_options(thread_id: int) -> TransferOptions:
    thread = threads.thread_or_404(db(), thread_id)
    return TransferOptions.model_validate(desk.transfer_options(db(), current_actor(), thread))


@api_route(
    bp,
    "/threads/<int:thread_id>/shopper-history",
    "GET",
    response=ShopperHistory,
    tag=TAG,
    summary="The shopper's history at the brand: thread, appointments, calls, bag, orders, shows",
    auth="staff",
)
def thread_shopper_history(thread_id: int) -> ShopperHistory:
    thread = threads.thread_or_404(db(), thread_id)
    return ShopperHistory.model_validate(desk.shopper_history(db(), current_actor(), thread))
