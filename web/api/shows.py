"""A show's lifecycle over HTTP — one operation per move, each refusing the others with a
409 — and "remind me" (sessions/shows/; docs/shows.md)."""

from __future__ import annotations

from flask import current_app, request

from sessions.access import access_show_reminders
from sessions.catalogue import get_or_404
from sessions.models import Show
from sessions.shows import lifecycle, reminders
from sessions.shows.lifecycle import ShowAction
from web.api import bp
from web.api.schemas import (
    ReminderCountOut,
    ReminderIn,
    ReminderOut,
    ShowOut,
    ShowStateOut,
    TrimIn,
    UnsubscribeIn,
)
from web.api.serializers import show_out
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor
from web.shows import end_show as end_show_on_air
from web.shows import flush_show_mails
from web.shows import start_show as start_show_on_air


def _show(show_id: int) -> Show:
    return get_or_404(db(), Show, show_id, "show")


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
        return "You had already asked: we will remind you."
    return f"We will remind you; a confirmation is on its way to {asked.reminder.email}."


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
        db(), current_actor(), show, body.email, client=request.remote_addr
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
