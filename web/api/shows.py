"""A show's lifecycle over HTTP — one operation per move, each refusing the others with a
409 — and "remind me" (sessions/shows/; docs/shows.md)."""

from __future__ import annotations

from typing import Annotated

from flask import current_app, request
from flask_babel import gettext
from pydantic import BaseModel, StringConstraints
from pydantic import Field as PydanticField

from sessions.access import access_show_invitees, access_show_reminders
from sessions.catalogue import get_or_404
from sessions.i18n import N_
from sessions.models import Brand, Show
from sessions.shows import invitees, lifecycle, reminders
from sessions.shows.lifecycle import ShowAction
from web.api import bp
from web.api.schemas import (
    ReminderCountOut,
    ReminderIn,
    ReminderOut,
    ShowOut,
    ShowStateOut,
    Strict,
    TrimIn,
    UnsubscribeIn,
)
from web.api.serializers import show_out
from web.api.spec import api_route
from web.db import db
from web.i18n import current_language
from web.identity import current_actor
from web.shows import end_show as end_show_on_air
from web.shows import flush_show_mails, show_mailer
from web.shows import start_show as start_show_on_air


def _show(show_id: int) -> Show:
    return get_or_404(db(), Show, show_id, N_("show"))


def _state(show: Show) -> ShowStateOut:
    live = lifecycle.live_session_for_show(db(), show)
    assert show.id is not None and live.id is not None
    return ShowStateOut(show_id=show.id, live_session_id=live.id, status=show.status.value)


# --- on air: the show's hosts ----------------------------------------------------------------


@api_route(
    bp,
    "/shows/<int:show_id>/start",
    "POST",
    response=ShowStateOut,
    tag="shows",
    summary="Go live (a scheduled show, by one of its hosts); 409 in any other state",
    auth="host",
)
def start_show(show_id: int) -> ShowStateOut:
    show = _show(show_id)
    start_show_on_air(current_actor(), show)
    return _state(show)


@api_route(
    bp,
    "/shows/<int:show_id>/end",
    "POST",
    response=ShowStateOut,
    tag="shows",
    summary="End the live show (by one of its hosts); 409 in any other state",
    auth="host",
)
def end_show(show_id: int) -> ShowStateOut:
    show = _show(show_id)
    end_show_on_air(current_actor(), show)  # the relay closes the recording: the replay
    return _state(show)


# --- the programme and the replay: the brand's admin ------------------------------------------


def _admin_action(show_id: int, action: ShowAction) -> ShowOut:
    show = _show(show_id)
    lifecycle.ACTIONS[action](db(), current_actor(), show)
    flush_show_mails()  # a cancellation tells whoever asked to be reminded, now
    return show_out(db(), show, current_actor())


@api_route(
    bp,
    "/shows/<int:show_id>/schedule",
    "POST",
    response=ShowOut,
    tag="shows",
    summary="Schedule a draft: it appears on the brand's pages; 409 in any other state",
    auth="brand_admin",
)
def schedule_show(show_id: int) -> ShowOut:
    return _admin_action(show_id, ShowAction.SCHEDULE)


@api_route(
    bp,
    "/shows/<int:show_id>/cancel",
    "POST",
    response=ShowOut,
    tag="shows",
    summary="Cancel a draft or a scheduled show; 409 in any other state",
    auth="brand_admin",
)
def cancel_show(show_id: int) -> ShowOut:
    return _admin_action(show_id, ShowAction.CANCEL)


@api_route(
    bp,
    "/shows/<int:show_id>/replay/publish",
    "POST",
    response=ShowOut,
    tag="shows",
    summary="Publish the replay of an ended show (or one hidden); 409 in any other state",
    auth="brand_admin",
)
def publish_replay(show_id: int) -> ShowOut:
    return _admin_action(show_id, ShowAction.PUBLISH_REPLAY)


@api_route(
    bp,
    "/shows/<int:show_id>/replay/hide",
    "POST",
    response=ShowOut,
    tag="shows",
    summary="Hide the replay of an ended show (or one published); 409 in any other state",
    auth="brand_admin",
)
def hide_replay(show_id: int) -> ShowOut:
    return _admin_action(show_id, ShowAction.HIDE_REPLAY)


@api_route(
    bp,
    "/shows/<int:show_id>/replay/trim",
    "POST",
    body=TrimIn,
    response=ShowOut,
    tag="shows",
    summary="Set where the replay starts and ends, in seconds of the recording",
    auth="brand_admin",
    example={"start_seconds": 12.5, "end_seconds": 1800},
)
def trim_replay(show_id: int, body: TrimIn) -> ShowOut:
    show = _show(show_id)
    lifecycle.do_trim_replay(
        db(),
        current_actor(),
        show,
        start_seconds=body.start_seconds,
        end_seconds=body.end_seconds,
    )
    return show_out(db(), show, current_actor())


# --- remind me -----------------------------------------------------------------------------


def asked_message(asked: reminders.Asked) -> str:
    if not asked.new:
        return gettext("You had already asked: we will remind you.")
    return gettext(
        "We will remind you. A confirmation is on its way to %(email)s.", email=asked.reminder.email
    )


@api_route(
    bp,
    "/shows/<int:show_id>/reminders",
    "POST",
    body=ReminderIn,
    response=ReminderOut,
    status=201,
    tag="shows",
    summary="Remind me: e-mails before the start and when the show goes live (rate-limited)",
    example={"email": "camille@example.com"},
)
def ask_reminder(show_id: int, body: ReminderIn) -> tuple[ReminderOut, int]:
    show = _show(show_id)
    asked = reminders.do_ask_reminder(
        db(),
        current_actor(),
        show,
        body.email,
        client=request.remote_addr,
        language=current_language(),
    )
    if asked.new:
        flush_show_mails()
    out = ReminderOut(show_id=show_id, new=asked.new, message=asked_message(asked))
    return out, 201 if asked.new else 200


@api_route(
    bp,
    "/shows/<int:show_id>/reminders",
    "GET",
    response=ReminderCountOut,
    tag="shows",
    summary="How many asked to be reminded of the show (its brand's staff)",
    auth="staff",
)
def count_reminders(show_id: int) -> ReminderCountOut:
    show = _show(show_id)
    access_show_reminders(current_actor(), show)
    return ReminderCountOut(show_id=show_id, count=reminders.reminder_count(db(), show))


@api_route(
    bp,
    "/show-reminders/unsubscribe",
    "POST",
    body=UnsubscribeIn,
    tag="shows",
    summary="Stop the reminders of one show to one address (the token of its e-mails' link)",
    example={"token": "from-the-e-mail"},
)
def unsubscribe(body: UnsubscribeIn) -> None:
    reminder = reminders.reminder_from_token(db(), current_app.config["SECRET_KEY"], body.token)
    reminders.do_unsubscribe(db(), reminder)


# --- personal links to a private show: its brand's admin ----------------------------------


class InviteesIn(Strict):
    text: Annotated[str, StringConstraints(max_length=100_000)] = PydanticField(
        description="One invitee a line: `Name, e-mail`, `Name <e-mail>` or a CSV paste"
    )


class InviteeOut(BaseModel):
    id: int
    name: str
    email: str
    invited_at: str
    mailed_at: str | None
    opened_at: str | None = PydanticField(description="First pass taken with the link")
    passes: int = PydanticField(description="Passes taken with the link (devices), each logged")
    watched_at: str | None = PydanticField(description="First join while the show was live")
    revoked_at: str | None


class InviteesOut(BaseModel):
    show_id: int
    invitees: list[InviteeOut]
    new: int = 0
    mailed: int = 0
    already: int = 0


def _invitees_out(show: Show, **counts: int) -> InviteesOut:
    rows = invitees.invitees_of(db(), current_actor(), show)
    assert show.id is not None
    return InviteesOut.model_validate({"show_id": show.id, "invitees": rows, **counts})


@api_route(
    bp,
    "/shows/<int:show_id>/invitees",
    "GET",
    response=InviteesOut,
    tag="shows",
    summary="A private show's invitees: invited, e-mailed, opened their link, watched",
    auth="brand_admin",
)
def list_invitees(show_id: int) -> InviteesOut:
    return _invitees_out(_show(show_id))


@api_route(
    bp,
    "/shows/<int:show_id>/invitees",
    "POST",
    body=InviteesIn,
    response=InviteesOut,
    status=201,
    tag="shows",
    summary="Invite people to a private show: each new one is e-mailed a personal link",
    auth="brand_admin",
    example={"text": "Camille Aubert, camille@example.com\nInès Roy <ines@example.com>"},
)
def add_invitees(show_id: int, body: InviteesIn) -> InviteesOut:
    show = _show(show_id)
    access_show_invitees(current_actor(), show)  # before the text is read
    rows = invitees.parse_invitees(body.text)
    made, already = invitees.do_invite(db(), current_actor(), show, rows)
    brand = db().get(Brand, show.brand_id)
    assert brand is not None
    sent = invitees.send_invitations(
        db(), show_mailer(), brand, show, made, current_app.config["PUBLIC_URL"]
    )
    return _invitees_out(show, new=len(made), mailed=sent, already=already)


@api_route(
    bp,
    "/shows/<int:show_id>/invitees/<int:invitee_id>/revoke",
    "POST",
    response=InviteesOut,
    tag="shows",
    summary="Revoke an invitee's personal link: it and every pass taken with it stop",
    auth="brand_admin",
)
def revoke_invitee(show_id: int, invitee_id: int) -> InviteesOut:
    show = _show(show_id)
    invitees.do_revoke_invitee(db(), current_actor(), show, invitee_id)
    return _invitees_out(show)
