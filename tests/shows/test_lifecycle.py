"""The transition table, exhaustively: every state × every action, allowed or 409.

Runs on whichever database the suite runs on (SQLite, then PostgreSQL with
TEST_DATABASE_URL). Each show is brought to its state by the lifecycle's own moves; the
allowed actor then asks every action, one fresh show each: the move happens (in the row,
read again, and as a ``show_state`` event to the show's room), or it is a Conflict (409)
that says what the show is, and nothing changes and nothing is published. Then who: for
each action, in a state that allows it, exactly its people may, everyone else is refused
(401 or 403) and changes nothing. The same table over the API, and a race: two moves at
once from one state, one wins.
"""

from __future__ import annotations

import threading
from itertools import product
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sessions.errors import Conflict, DomainError, Forbidden, InvalidInput, NotAuthenticated
from sessions.events import Event
from sessions.models import Show, ShowStatus
from sessions.shows import lifecycle
from sessions.shows.lifecycle import TRANSITIONS, ShowAction, Who
from tests.shows.conftest import Cast

S, A = ShowStatus, ShowAction

# The table as the issue states it, written out again by hand: the code's TRANSITIONS must
# say the same (a typo in one is caught by the other).
EXPECTED: dict[tuple[ShowStatus, ShowAction], ShowStatus] = {
    (S.DRAFT, A.SCHEDULE): S.SCHEDULED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.SCHEDULED, A.CANCEL): S.CANCELLED,
    (S.SCHEDULED, A.START): S.LIVE,
    (S.LIVE, A.END): S.ENDED,
    (S.ENDED, A.PUBLISH_REPLAY): S.REPLAY_PUBLISHED,
    (S.ENDED, A.HIDE_REPLAY): S.REPLAY_HIDDEN,
    (S.REPLAY_HIDDEN, A.PUBLISH_REPLAY): S.REPLAY_PUBLISHED,
    (S.REPLAY_PUBLISHED, A.HIDE_REPLAY): S.REPLAY_HIDDEN,
    # A trim keeps the state; it is the replay's, so it needs one.
    (S.ENDED, A.TRIM_REPLAY): S.ENDED,
    (S.REPLAY_PUBLISHED, A.TRIM_REPLAY): S.REPLAY_PUBLISHED,
    (S.REPLAY_HIDDEN, A.TRIM_REPLAY): S.REPLAY_HIDDEN,
}
CELLS = list(product(ShowStatus, ShowAction))


def actor_for(action: ShowAction) -> str:
    return "host" if TRANSITIONS[action].who is Who.HOSTS else "admin"


def act(db: Session, cast: Cast, who: str, show: Show, action: ShowAction) -> Any:
    actor = cast.actors[who]
    if action is A.TRIM_REPLAY:
        return lifecycle.do_trim_replay(db, actor, show, start_seconds=12.5, end_seconds=600)
    return lifecycle.ACTIONS[action](db, actor, show)


def status_in_database(engine: Engine, show_id: int | None) -> ShowStatus:
    """Read on a connection of its own. (Pass the id: after a rollback, touching the test's
    show object would reload it, opening a transaction that holds SQLite's write lock.)"""
    with Session(engine) as fresh:
        return fresh.exec(select(Show.status).where(Show.id == show_id)).one()


def test_the_code_says_what_the_issue_says() -> None:
    for status, action in CELLS:
        transition = TRANSITIONS[action]
        allowed = status in transition.sources
        assert allowed == ((status, action) in EXPECTED), (status, action)
        if allowed:
            assert (transition.target or status) is EXPECTED[(status, action)]


@pytest.mark.parametrize(("status", "action"), CELLS, ids=lambda v: str(v.value))
def test_every_state_times_every_action(
    status: ShowStatus,
    action: ShowAction,
    cast: Cast,
    session: Session,
    engine: Engine,
    events: list[Event],
) -> None:
    show = cast.show_in(status)
    show_id, room = show.id, lifecycle.live_session_for_show(session, show).room
    session.commit()
    events.clear()
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(Conflict) as refused:
            act(session, cast, actor_for(action), show, action)
        session.rollback()
        error = refused.value
        assert error.status == 409 and error.code == "invalid_transition"
        assert error.details == {"status": status.value, "action": action.value}
        assert error.message.startswith("This show ")
        assert status_in_database(engine, show_id) is status
        assert [e for e in events if e.kind == "show_state"] == []
        return
    act(session, cast, actor_for(action), show, action)
    assert show.status is expected
    assert status_in_database(engine, show_id) is expected
    told = [e for e in events if e.kind == "show_state"]
    if TRANSITIONS[action].target is None:  # a trim: not a move, nothing to tell
        assert told == []
        session.refresh(show)
        assert (show.replay_start_seconds, show.replay_end_seconds) == (12.5, 600)
    else:
        assert [(e.room, e.audience, e.data) for e in told] == [
            (room, "room", {"show_id": show_id, "status": expected.value})
        ]
    session.commit()


def test_a_refusal_says_what_the_show_is_and_when_the_action_works(
    cast: Cast, session: Session
) -> None:
    show = cast.show_in(S.LIVE)
    with pytest.raises(Conflict) as refused:
        lifecycle.do_cancel_show(session, cast.actors["admin"], show)
    assert refused.value.message == (
        "This show is live: it can be cancelled only when it is a draft or scheduled."
    )
    show = cast.show_in(S.CANCELLED)
    with pytest.raises(Conflict) as refused:
        lifecycle.do_end_show(session, cast.actors["host"], show)
    assert refused.value.message == "This show was cancelled: it can be ended only when it is live."
    session.rollback()


# --- who may -------------------------------------------------------------------------------

EVERYONE = ["host", "colleague", "admin", "other_admin", "platform", "shopper", "anonymous"]
MAY = {Who.HOSTS: {"host", "platform"}, Who.BRAND_ADMIN: {"admin", "platform"}}
A_STATE_THAT_ALLOWS = {
    A.SCHEDULE: S.DRAFT,
    A.CANCEL: S.SCHEDULED,
    A.START: S.SCHEDULED,
    A.END: S.LIVE,
    A.PUBLISH_REPLAY: S.ENDED,
    A.HIDE_REPLAY: S.ENDED,
    A.TRIM_REPLAY: S.ENDED,
}


@pytest.mark.parametrize("action", list(ShowAction), ids=lambda a: a.value)
@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_take_each_action(
    who: str, action: ShowAction, cast: Cast, session: Session, engine: Engine
) -> None:
    status = A_STATE_THAT_ALLOWS[action]
    show = cast.show_in(status)
    show_id = show.id
    may = who in MAY[TRANSITIONS[action].who]
    assert (
        lifecycle.may_act(cast.actors[who], show, action, lifecycle.host_ids(session, show)) == may
    )
    assert (action in lifecycle.actions_for(session, cast.actors[who], show)) == may
    session.commit()
    if may:
        act(session, cast, who, show, action)
        assert show.status is EXPECTED[(status, action)]
        return
    refusal = NotAuthenticated if who in ("shopper", "anonymous") else Forbidden
    with pytest.raises(refusal):
        act(session, cast, who, show, action)
    session.rollback()
    assert status_in_database(engine, show_id) is status


def test_a_host_of_another_show_is_not_this_shows_host(cast: Cast, session: Session) -> None:
    theirs = cast.new_show(host_ids=[cast.colleague.id])
    with pytest.raises(Forbidden, match="hosts"):
        lifecycle.do_start_show(session, cast.actors["host"], theirs)
    session.rollback()
    lifecycle.do_start_show(session, cast.actors["colleague"], theirs)
    assert theirs.status is S.LIVE


def test_a_draft_in_the_past_is_not_scheduled(cast: Cast, session: Session) -> None:
    from datetime import timedelta

    from sessions.clock import utcnow

    late = cast.new_show(draft=True, starts_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(InvalidInput) as refused:
        lifecycle.do_schedule_show(session, cast.actors["admin"], late)
    assert refused.value.details == {"field": "starts_at"}
    session.rollback()


def test_publishing_needs_a_recording(cast: Cast, session: Session) -> None:
    show = cast.show_in(S.LIVE)
    lifecycle.do_end_show(session, cast.actors["host"], show)  # the relay kept nothing
    with pytest.raises(Conflict) as refused:
        lifecycle.do_publish_replay(session, cast.actors["admin"], show)
    assert refused.value.code == "no_recording"
    session.rollback()
    lifecycle.do_hide_replay(session, cast.actors["admin"], show)
    assert show.status is S.REPLAY_HIDDEN


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (-1, None, "start_seconds"),
        (30, 30, "end_seconds"),
        (30, 10, "end_seconds"),
        (True, None, "start_seconds"),
        ("10", None, "start_seconds"),
        (0, 86401, "end_seconds"),
        (float("nan"), None, "start_seconds"),
    ],
)
def test_a_bad_trim_is_a_field_error(
    start: object, end: object, field: str, cast: Cast, session: Session
) -> None:
    show = cast.show_in(S.ENDED)
    with pytest.raises(InvalidInput) as refused:
        lifecycle.do_trim_replay(
            session, cast.actors["admin"], show, start_seconds=start, end_seconds=end
        )
    assert refused.value.details["field"] == field
    session.rollback()


def test_two_moves_at_once_one_wins(cast: Cast, engine: Engine, session: Session) -> None:
    """The admin cancels while the host goes live, on two connections at once (say two
    nodes): the conditional UPDATE lets exactly one through; the other is a 409."""
    show = cast.show_in(S.SCHEDULED)
    show_id = show.id
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def run(who: str, action: ShowAction) -> None:
        with Session(engine, expire_on_commit=False) as db:
            mine = db.get(Show, show_id)
            assert mine is not None
            db.commit()
            barrier.wait()
            try:
                act(db, cast, who, mine, action)
                outcomes[who] = "moved"
            except DomainError as exc:
                outcomes[who] = str(exc.status)

    threads = [
        threading.Thread(target=run, args=("host", A.START)),
        threading.Thread(target=run, args=("admin", A.CANCEL)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["409", "moved"], outcomes
    final = status_in_database(engine, show_id)
    assert final is (S.LIVE if outcomes["host"] == "moved" else S.CANCELLED)


# --- the same table over the API -------------------------------------------------------------

ROUTES = {
    A.SCHEDULE: "schedule",
    A.CANCEL: "cancel",
    A.START: "start",
    A.END: "end",
    A.PUBLISH_REPLAY: "replay/publish",
    A.HIDE_REPLAY: "replay/hide",
    A.TRIM_REPLAY: "replay/trim",
}


@pytest.mark.parametrize("status", list(ShowStatus), ids=lambda s: s.value)
def test_every_action_over_the_api(
    status: ShowStatus, cast: Cast, app: Flask, engine: Engine
) -> None:
    clients = {who: cast.client(app, who) for who in ("host", "admin")}
    for action in ShowAction:
        show = cast.show_in(status)
        show_id = show.id
        body = {"start_seconds": 5, "end_seconds": 90} if action is A.TRIM_REPLAY else None
        answer = clients[actor_for(action)].post(
            f"/api/shows/{show.id}/{ROUTES[action]}", json=body
        )
        expected = EXPECTED.get((status, action))
        if expected is None:
            assert answer.status_code == 409, (action, answer.json)
            assert answer.json["error"] == "invalid_transition"
            assert answer.json["details"] == {"status": status.value, "action": action.value}
            assert status_in_database(engine, show_id) is status
        else:
            assert answer.status_code == 200, (action, answer.json)
            assert answer.json["status"] == expected.value
            assert status_in_database(engine, show_id) is expected


def test_the_api_says_what_each_may_do(cast: Cast, app: Flask) -> None:
    show = cast.show_in(S.SCHEDULED)
    seen = {
        who: cast.client(app, who).get(f"/api/shows/{show.id}").json["actions"]
        for who in ("host", "colleague", "admin", "shopper")
    }
    assert seen == {
        "host": ["start"],
        "colleague": [],
        "admin": ["cancel"],
        "shopper": [],
    }


def test_a_draft_is_its_brands_staff_only(cast: Cast, app: Flask) -> None:
    draft = cast.show_in(S.DRAFT)
    shopper, admin = cast.client(app, "shopper"), cast.client(app, "admin")
    slug = cast.brand.slug
    assert shopper.get(f"/api/shows/{draft.id}").status_code == 404
    assert shopper.get(f"/b/{slug}/shows/{draft.id}").status_code == 404
    assert shopper.get(f"/b/{slug}/shows/{draft.id}.ics").status_code == 404
    listed = shopper.get(f"/api/brands/{cast.brand.id}/shows").json
    assert draft.id not in [s["id"] for s in listed]
    assert admin.get(f"/api/shows/{draft.id}").json["status"] == "draft"
    assert admin.get(f"/b/{slug}/shows/{draft.id}").status_code == 200  # a preview


def test_the_replay_is_public_once_published(cast: Cast, app: Flask) -> None:
    show = cast.show_in(S.ENDED)
    shopper, admin = cast.client(app, "shopper"), cast.client(app, "admin")
    page = f"/b/{cast.brand.slug}/shows/{show.id}"
    assert shopper.get(f"/api/shows/{show.id}").json["replay_url"] is None
    assert 'id="replay"' not in shopper.get(page).get_data(as_text=True)
    assert admin.get(f"/api/shows/{show.id}").json["replay_url"]
    trimmed = admin.post(
        f"/api/shows/{show.id}/replay/trim", json={"start_seconds": 8, "end_seconds": 95.5}
    )
    assert trimmed.status_code == 200
    assert admin.post(f"/api/shows/{show.id}/replay/publish").json["status"] == "replay_published"
    assert shopper.get(f"/api/shows/{show.id}").json["replay_url"]
    html = shopper.get(page).get_data(as_text=True)
    assert 'id="replay"' in html and "show.webm#t=8.0,95.5" in html
    admin.post(f"/api/shows/{show.id}/replay/hide")
    assert 'id="replay"' not in shopper.get(page).get_data(as_text=True)
