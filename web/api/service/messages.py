"""Messages left when nobody is there, and answering them."""

from __future__ import annotations

from sqlmodel import col, select

from sessions.access import (
    access_brand_staff,
)
from sessions.catalogue import get_or_404
from sessions.i18n import N_
from sessions.models import (
    AssociateProfile,
    OfflineMessage,
)
from sessions.service import messages_left
from web.api import bp
from web.api.service.common import (
    _brand,
    message_out,
)
from web.api.service.schemas import (
    AnswerIn,
    LeftMessageOut,
    MessageIn,
)
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor, ensure_shopper
from web.service import services

# --- messages left ----------------------------------------------------------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/messages",
    "POST",
    body=MessageIn,
    response=LeftMessageOut,
    status=201,
    tag="consultations",
    summary="Leave a message when nobody is online",
    auth="shopper",
)
def consult_leave_message(brand_id: int, body: MessageIn) -> LeftMessageOut:
    _brand(brand_id)
    actor = ensure_shopper()
    message = messages_left.do_leave_message(
        db(), brand_id=brand_id, shopper_id=actor.shopper_id, **body.model_dump()
    )
    return message_out(message)


@api_route(
    bp,
    "/brands/<int:brand_id>/messages",
    "GET",
    response=list[LeftMessageOut],
    tag="consultations",
    summary="Messages left for the brand, unanswered first",
    auth="staff",
)
def consult_list_messages(brand_id: int) -> list[LeftMessageOut]:
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
    response=LeftMessageOut,
    tag="consultations",
    summary="Answer a message; the shopper gets it by e-mail",
    auth="staff",
    example={"answer": "Yes, it comes in sky blue too."},
)
def consult_answer_message(message_id: int, body: AnswerIn) -> LeftMessageOut:
    message = get_or_404(db(), OfflineMessage, message_id, N_("message"))
    actor = current_actor()
    access_brand_staff(actor, message.brand_id)
    profile = db().get(AssociateProfile, actor.associate_id) if actor.associate_id else None
    messages_left.do_answer_message(
        db(), message, body.answer, services.mailer(), by=profile, by_name=actor.name
    )
    return message_out(message)
