"""The shopper's thread with a brand and the associate's inbox, as JSON.

Views only parse, pass the gate (inside the actions, ``sessions.access``) and call a
``do_*`` action; live delivery is the events' (``thread_*`` kinds, docs/events.md).
A GET never makes a row: a shopper without a thread yet is told so (``thread: null``),
not given one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from pydantic import BaseModel, Field, StringConstraints

from sessions.access import access_brand_staff, access_thread
from sessions.catalogue import get_or_404
from sessions.errors import NotFound
from sessions.i18n import N_
from sessions.models import Brand
from sessions.service import threads
from web.api import bp
from web.api.live import ColourReportOut
from web.api.spec import api_route
from web.db import db
from web.i18n import current_language
from web.identity import current_actor, ensure_shopper
from web.service import services

DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Lang = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(max_length=threads.MAX_BODY)]
TAG = "threads"


class Strict(BaseModel):
    model_config = {"extra": "forbid"}


class AskIn(Strict):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    product_id: DbId | None = None  # the product page the shopper asks from
    show_id: DbId | None = None  # the show the shopper asks from (the embed's too)
    language: Lang = "en"
    store_id: DbId | None = None
    client_id: ClientId | None = None


class PostIn(Strict):
    body: Text = ""
    product_id: DbId | None = None  # a product card
    attachment_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    show_id: DbId | None = None  # the shopper's: the show they write from
    client_id: ClientId | None = None


class ReadIn(Strict):
    message_id: DbId


class ThreadTransferIn(Strict):
    associate_id: DbId | None = None
    store_id: DbId | None = None


class InboxQuery(BaseModel):
    tab: Literal["waiting", "mine", "colleagues"] = "waiting"


class ThreadHistoryQuery(BaseModel):
    after_id: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


class ThreadMessageOut(BaseModel):
    id: int
    thread_id: int
    kind: str  # text, product, photo, system, automatic
    side: str  # shopper, staff, system
    author: str
    body: str
    product_id: int | None
    attachment_url: str | None
    show_id: int | None = Field(description="The show the shopper asked from")
    context: str = Field(description="Where it was asked from, as a line to show with it")
    client_id: str | None
    colour: ColourReportOut | None = Field(
        default=None, description="A corrected snapshot's figures (docs/colour.md)"
    )
    at: datetime


class AssociateCard(BaseModel):
    id: int
    name: str
    photo_path: str | None
    store: str | None
    languages: list[str]


class ThreadOut(BaseModel):
    id: int
    brand_id: int
    shopper_id: int
    shopper_name: str
    status: str  # waiting, assigned, closed
    associate: AssociateCard | None
    offered_to: int | None
    language: str
    store_id: int | None
    waiting_since: datetime | None
    last_message: ThreadMessageOut | None
    shopper_read_id: int
    staff_read_id: int
    position: int | None = Field(description="Place in line while it waits (1 = next)")
    estimated_wait_seconds: int | None = Field(description="A wait estimate while it waits")


class ThreadWithMessages(BaseModel):
    thread: ThreadOut
    messages: list[ThreadMessageOut]


class MyThreadOut(BaseModel):
    thread: ThreadOut | None = Field(description="null until the shopper's first question")
    messages: list[ThreadMessageOut]


class AskOut(BaseModel):
    thread: ThreadOut
    message: ThreadMessageOut
    automatic: ThreadMessageOut | None = Field(
        description="The automatic answer, when nobody could take the question"
    )
    back_at: datetime | None = Field(description="When the next associate starts work")


class ReadOut(BaseModel):
    thread_id: int
    read_id: int


def _thread(thread_id: int) -> Any:
    thread = threads.thread_or_404(db(), thread_id)
    access_thread(current_actor(), thread)
    return thread


def _out(thread: Any, *, with_place: bool = True) -> ThreadOut:
    return ThreadOut.model_validate(
        threads.thread_out(db(), thread, with_place=with_place, lang=current_language())
    )


def _with_messages(thread: Any, after_id: int = 0) -> ThreadWithMessages:
    return ThreadWithMessages(
        thread=_out(thread),
        messages=[
            ThreadMessageOut.model_validate(m)
            for m in threads.history(db(), thread, after_id, current_language())
        ],
    )


# --- the shopper -------------------------------------------------------------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/thread",
    "POST",
    body=AskIn,
    response=AskOut,
    status=201,
    tag=TAG,
    summary="Ask an associate: opens (or reuses) the shopper's thread and routes it",
    auth="shopper",
    example={"body": "Is the Petite Lune a true sky blue?"},
)
def thread_ask(brand_id: int, body: AskIn) -> AskOut:
    brand = get_or_404(db(), Brand, brand_id, N_("brand"))
    asked = threads.do_ask(
        db(),
        ensure_shopper(),
        brand,
        accept_seconds=services.accept_seconds(),
        **body.model_dump(),
    )
    return AskOut(
        thread=_out(asked.thread),
        message=ThreadMessageOut.model_validate(asked.message),
        automatic=ThreadMessageOut.model_validate(asked.automatic) if asked.automatic else None,
        back_at=asked.back_at,
    )


@api_route(
    bp,
    "/brands/<int:brand_id>/thread",
    "GET",
    response=MyThreadOut,
    tag=TAG,
    summary="My thread with this brand and its messages ({thread: null, messages: []} "
    "before the first question: not an error, every brand page asks)",
    auth="shopper",
)
def thread_mine(brand_id: int) -> MyThreadOut:
    get_or_404(db(), Brand, brand_id, N_("brand"))
    actor = current_actor()
    thread = None
    if actor.shopper_id is not None:
        thread = threads.thread_of(db(), brand_id, actor.shopper_id)
    if thread is None:
        return MyThreadOut(thread=None, messages=[])
    mine = _with_messages(thread)
    return MyThreadOut(thread=mine.thread, messages=mine.messages)


@api_route(
    bp,
    "/threads/<int:thread_id>",
    "GET",
    query=ThreadHistoryQuery,
    response=ThreadWithMessages,
    tag=TAG,
    summary="A thread and its messages after after_id (its shopper, or the brand's staff)",
    auth="shopper",
)
def thread_history(thread_id: int, query: ThreadHistoryQuery) -> ThreadWithMessages:
    return _with_messages(_thread(thread_id), query.after_id)


@api_route(
    bp,
    "/threads/<int:thread_id>/messages",
    "POST",
    body=PostIn,
    response=ThreadMessageOut,
    status=201,
    tag=TAG,
    summary="Post text, a product card or a picture (the shopper, or the associate holding it)",
    auth="shopper",
    example={"body": "Here it is in M.", "client_id": "c-1"},
)
def thread_post(thread_id: int, body: PostIn) -> ThreadMessageOut:
    thread = _thread(thread_id)
    message = threads.do_send_thread_message(db(), current_actor(), thread, **body.model_dump())
    return ThreadMessageOut.model_validate(message)


@api_route(
    bp,
    "/threads/<int:thread_id>/read",
    "POST",
    body=ReadIn,
    response=ReadOut,
    tag=TAG,
    summary="Mark the thread read up to a message (either side)",
    auth="shopper",
    example={"message_id": 1},
)
def thread_read(thread_id: int, body: ReadIn) -> ReadOut:
    thread = _thread(thread_id)
    read = threads.do_mark_read(db(), current_actor(), thread, body.message_id)
    return ReadOut(thread_id=thread_id, read_id=read)


@api_route(
    bp,
    "/threads/<int:thread_id>/leave",
    "POST",
    response=ThreadOut,
    tag=TAG,
    summary="The shopper leaves: the conversation closes (asking again reopens it)",
    auth="shopper",
)
def thread_leave(thread_id: int) -> ThreadOut:
    thread = _thread(thread_id)
    actor = current_actor()
    if actor.shopper_id != thread.shopper_id:
        raise NotFound(_("No thread with id %(id)s.", id=thread_id))
    return _out(threads.do_close_thread(db(), actor, thread))


# --- the associate's inbox -------------------------------------------------------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/inbox",
    "GET",
    query=InboxQuery,
    response=list[ThreadOut],
    tag=TAG,
    summary="The inbox: waiting threads, mine, or my colleagues'",
    auth="staff",
)
def thread_inbox(brand_id: int, query: InboxQuery) -> list[ThreadOut]:
    actor = current_actor()
    access_brand_staff(actor, brand_id)
    return [_out(t, with_place=False) for t in threads.inbox(db(), actor, brand_id, query.tab)]


@api_route(
    bp,
    "/threads/<int:thread_id>/accept",
    "POST",
    response=ThreadOut,
    tag=TAG,
    summary="Take a waiting thread",
    auth="staff",
)
def thread_accept(thread_id: int) -> ThreadOut:
    thread = threads.thread_or_404(db(), thread_id)
    return _out(threads.do_accept_thread(db(), current_actor(), thread))


@api_route(
    bp,
    "/threads/<int:thread_id>/decline",
    "POST",
    tag=TAG,
    summary="Let a thread offered to me pass to the next associate",
    auth="staff",
)
def thread_decline(thread_id: int) -> None:
    thread = threads.thread_or_404(db(), thread_id)
    threads.do_decline_thread(db(), current_actor(), thread)


@api_route(
    bp,
    "/threads/<int:thread_id>/transfer",
    "POST",
    body=ThreadTransferIn,
    response=ThreadOut,
    tag=TAG,
    summary="Hand a thread to a colleague (present, with room) or to a store",
    auth="staff",
    example={"associate_id": 2},
)
def thread_transfer(thread_id: int, body: ThreadTransferIn) -> ThreadOut:
    thread = threads.thread_or_404(db(), thread_id)
    moved = threads.do_transfer_thread(
        db(),
        current_actor(),
        thread,
        to_associate_id=body.associate_id,
        to_store_id=body.store_id,
    )
    return _out(moved)


@api_route(
    bp,
    "/threads/<int:thread_id>/close",
    "POST",
    response=ThreadOut,
    tag=TAG,
    summary="Close a thread I hold",
    auth="staff",
)
def thread_close(thread_id: int) -> ThreadOut:
    thread = threads.thread_or_404(db(), thread_id)
    return _out(threads.do_close_thread(db(), current_actor(), thread))
