"""Saved replies as JSON: the brand's and the associate's own, and filled for a thread.

Views parse, then call ``sessions.service.replies`` (its gates are in
``sessions.access``). Filling is a GET: it stores nothing, the associate sends the text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from sessions.access import access_manage_reply
from sessions.catalogue import get_or_404
from sessions.i18n import N_
from sessions.models import Brand, SavedReply
from sessions.service import replies, threads
from web.api import bp
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor

TAG = "replies"
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=replies.MAX_TITLE)
]
Body = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=replies.MAX_BODY)
]


class Strict(BaseModel):
    model_config = {"extra": "forbid"}


class ReplyIn(Strict):
    title: Title
    body: Body
    scope: Literal["brand", "mine"] = Field(
        default="mine", description="brand: for all the brand's staff (its admin); mine: my own"
    )


class ReplyPatch(Strict):
    title: Title | None = None
    body: Body | None = None


class ReplyOut(BaseModel):
    id: int
    brand_id: int
    scope: str  # brand or mine
    associate_id: int | None
    title: str
    body: str = Field(description="The template, placeholders in braces")
    placeholders: list[str]
    updated_at: datetime


class FilledReplyOut(ReplyOut):
    text: str | None = Field(description="Filled for this thread; None when it cannot be")
    problem: str | None = Field(description="Why it cannot be filled here")
    missing: list[str] = Field(description="The placeholders this thread has no value for")


class FillQuery(BaseModel):
    text: Annotated[str, StringConstraints(max_length=replies.MAX_BODY)] = ""


class FilledOut(BaseModel):
    text: str


def _out(reply: SavedReply) -> ReplyOut:
    return ReplyOut.model_validate(replies.reply_out(reply))


@api_route(
    bp,
    "/brands/<int:brand_id>/replies",
    "GET",
    response=list[ReplyOut],
    tag=TAG,
    summary="The saved replies I may use here: my own, then the brand's",
    auth="staff",
)
def replies_list(brand_id: int) -> list[ReplyOut]:
    get_or_404(db(), Brand, brand_id, N_("brand"))
    return [_out(r) for r in replies.replies_for(db(), current_actor(), brand_id)]


@api_route(
    bp,
    "/brands/<int:brand_id>/replies",
    "POST",
    body=ReplyIn,
    response=ReplyOut,
    status=201,
    tag=TAG,
    summary="Save a reply: the brand's (its admin) or my own (an associate)",
    auth="staff",
    example={
        "title": "Welcome",
        "body": "Hello {shopper}, I am {associate} from {store}.",
        "scope": "brand",
    },
)
def replies_create(brand_id: int, body: ReplyIn) -> ReplyOut:
    get_or_404(db(), Brand, brand_id, N_("brand"))
    reply = replies.do_create_reply(
        db(), current_actor(), brand_id, title=body.title, body=body.body, scope=body.scope
    )
    return _out(reply)


@api_route(
    bp,
    "/replies/<int:reply_id>",
    "GET",
    response=ReplyOut,
    tag=TAG,
    summary="One saved reply (whoever may change it)",
    auth="staff",
)
def replies_get(reply_id: int) -> ReplyOut:
    reply = replies.reply_or_404(db(), reply_id)
    access_manage_reply(current_actor(), reply)
    return _out(reply)


@api_route(
    bp,
    "/replies/<int:reply_id>",
    "PATCH",
    body=ReplyPatch,
    response=ReplyOut,
    tag=TAG,
    summary="Edit a saved reply (the brand's: its admin; my own: me)",
    auth="staff",
    example={"body": "Hello {shopper}, {product} in {size} is here for you."},
)
def replies_update(reply_id: int, body: ReplyPatch) -> ReplyOut:
    reply = replies.reply_or_404(db(), reply_id)
    changed = replies.do_update_reply(db(), current_actor(), reply, **body.model_dump())
    return _out(changed)


@api_route(
    bp,
    "/replies/<int:reply_id>",
    "DELETE",
    tag=TAG,
    summary="Delete a saved reply (the brand's: its admin; my own: me)",
    auth="staff",
)
def replies_delete(reply_id: int) -> None:
    reply = replies.reply_or_404(db(), reply_id)
    replies.do_delete_reply(db(), current_actor(), reply)


@api_route(
    bp,
    "/threads/<int:thread_id>/replies",
    "GET",
    response=list[FilledReplyOut],
    tag=TAG,
    summary="The saved replies I may use, filled for this thread (or why one cannot be)",
    auth="staff",
)
def replies_for_thread(thread_id: int) -> list[FilledReplyOut]:
    thread = threads.thread_or_404(db(), thread_id)
    rows = replies.replies_in_thread(db(), current_actor(), thread)
    return [FilledReplyOut.model_validate(r) for r in rows]


@api_route(
    bp,
    "/threads/<int:thread_id>/fill",
    "GET",
    query=FillQuery,
    response=FilledOut,
    tag=TAG,
    summary="Fill the placeholders of a text for this thread (422 naming one it has no value for)",
    auth="staff",
)
def replies_fill(thread_id: int, query: FillQuery) -> FilledOut:
    thread = threads.thread_or_404(db(), thread_id)
    return FilledOut(text=replies.fill_text(db(), current_actor(), thread, query.text))
