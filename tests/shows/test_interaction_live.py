"""Polls and questions over HTTP and Socket.IO: bad input is a 4xx with a message, a
second vote or a vote on a closed poll a 409; real Socket.IO clients in the show's room
(guest viewers and the host's console) receive every result and question by push, the
join's answer carries what a page needs (the replay's too), and the scheduler's
``polls`` job closes a poll at its end for everyone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy import update
from sqlmodel import col

from sessions.clock import utcnow
from sessions.models import Poll, ShowStatus
from sessions.shows import lifecycle
from tests.rooms.conftest import connect, received  # noqa: F401  (the fixture, reused)
from tests.shows.conftest import Cast
from web.scheduler import scheduler_of

Connect = Callable[..., SocketIOTestClient]


def live_show(cast: Cast) -> int:
    show = cast.show_in(ShowStatus.LIVE)
    live = lifecycle.live_session_for_show(cast.session, show)
    cast.session.commit()
    assert live.id is not None
    return live.id


def guest_http(app: Flask, live_id: int) -> FlaskClient:
    http = app.test_client()
    assert http.get(f"/api/live-sessions/{live_id}").status_code == 200  # the guest cookie
    return http


def joined(sio: SocketIOTestClient, live_id: int) -> dict[str, Any]:
    ack = sio.emit("join", {"session_id": live_id}, callback=True)
    assert isinstance(ack, dict) and ack.get("ok"), ack
    return ack


def poll_body(**overrides: Any) -> dict[str, Any]:
    return {
        "question": "Which colour next?",
        "answers": ["Ivory", "Noir"],
        "seconds": 60,
    } | overrides


def test_bad_input_is_a_4xx_with_a_message(cast: Cast, app: Flask) -> None:
    live_id = live_show(cast)
    host = cast.client(app, "host")
    base = f"/api/live-sessions/{live_id}"
    for body in (
        poll_body(answers=["Only one"]),
        poll_body(answers=["a", "b", "c", "d", "e", "f"]),
        poll_body(answers=["Same", "same"]),
        poll_body(seconds=0),
        poll_body(question=""),
        poll_body(extra=1),
        {"question": "Q?"},
    ):
        answer = host.post(f"{base}/polls", json=body)
        assert answer.status_code == 422, (body, answer.get_json())
        assert answer.get_json()["message"]
    assert host.post(f"{base}/polls", data="{", content_type="application/json").status_code == 400
    poll = host.post(f"{base}/polls", json=poll_body()).get_json()
    assert host.post(f"{base}/polls", json=poll_body()).status_code == 409  # one open at a time
    shopper = guest_http(app, live_id)
    vote = f"{base}/polls/{poll['id']}/votes"
    assert shopper.post(vote, json={"answer_id": "x"}).status_code == 422
    assert shopper.post(vote, json={"answer_id": 999_999}).status_code == 404
    assert shopper.post(f"{base}/polls/999999/votes", json={"answer_id": 1}).status_code == 404
    first = shopper.post(vote, json={"answer_id": poll["answers"][0]["id"]})
    assert first.status_code == 201 and first.get_json()["votes"] == 1
    again = shopper.post(vote, json={"answer_id": poll["answers"][1]["id"]})
    assert again.status_code == 409 and again.get_json()["error"] == "already_voted"
    assert host.post(vote, json={"answer_id": poll["answers"][0]["id"]}).status_code == 403
    assert host.post(f"{base}/polls/{poll['id']}/close").status_code == 200
    late = guest_http(app, live_id).post(vote, json={"answer_id": poll["answers"][0]["id"]})
    assert late.status_code == 409 and late.get_json()["error"] == "poll_closed"
    assert host.post(f"{base}/polls/{poll['id']}/close").status_code == 409
    ask = f"{base}/questions"
    for body in ({"body": ""}, {"body": "x" * 301}, {"body": 3}, {}):
        assert shopper.post(ask, json=body).status_code == 422
    question = shopper.post(ask, json={"body": "  Is it lined?  "})
    assert question.status_code == 201
    qid = question.get_json()["id"]
    assert shopper.post(f"{ask}/{qid}/upvote").status_code == 409  # one's own
    other = guest_http(app, live_id)
    assert other.post(f"{ask}/{qid}/upvote").status_code == 201
    assert other.post(f"{ask}/{qid}/upvote").status_code == 409
    assert other.post(f"{ask}/999999/upvote").status_code == 404
    assert shopper.post(f"{ask}/{qid}/answer").status_code == 401  # not staff
    assert host.post(f"{ask}/{qid}/answer").get_json()["answered"] is True
    state = other.get(f"{base}/interaction").get_json()
    assert state["pinned_question"]["id"] == qid and state["upvoted"] == [qid]
    assert state["polls"][0]["closed"] and state["polls"][0]["votes"] == 1
    assert host.post(f"{ask}/{qid}/hide").status_code == 200
    assert other.get(f"{base}/interaction").get_json()["questions"] == []


def test_polls_and_questions_are_pushed_to_everyone_in_the_room(
    cast: Cast,
    app: Flask,
    connect: Connect,  # noqa: F811
) -> None:
    live_id, elsewhere_id = live_show(cast), live_show(cast)
    console = connect(cast.emails["host"])
    joined(console, live_id)
    anna = connect(http=guest_http(app, live_id))
    bea = connect(http=guest_http(app, live_id))
    joined(anna, live_id)
    joined(bea, live_id)
    stranger = connect(http=guest_http(app, elsewhere_id))
    joined(stranger, elsewhere_id)

    made = console.emit("poll_create", {"session_id": live_id, **poll_body()}, callback=True)
    assert made["ok"], made
    poll = made["poll"]
    assert [p["id"] for p in received(anna, "poll")] == [poll["id"]]
    noir = poll["answers"][1]["id"]
    vote = {"session_id": live_id, "poll_id": poll["id"], "answer_id": noir}
    assert anna.emit("poll_vote", vote, callback=True)["ok"]
    twice = anna.emit("poll_vote", vote, callback=True)
    assert twice["ok"] is False and twice["error"] == "already_voted"
    for sio in (console, bea):
        results = received(sio, "poll")
        assert [r["answers"][1]["votes"] for r in results][-1] == 1
    refused = console.emit("poll_vote", vote, callback=True)
    assert refused["ok"] is False and refused["error"] == "host"

    asked = bea.emit("question_ask", {"session_id": live_id, "body": "Lined?"}, callback=True)
    assert asked["ok"], asked
    qid = asked["question"]["id"]
    assert [q["body"] for q in received(console, "question")] == ["Lined?"]
    up = anna.emit("question_upvote", {"session_id": live_id, "question_id": qid}, callback=True)
    assert up["ok"] and up["question"]["upvotes"] == 1
    assert received(console, "question")[-1]["upvotes"] == 1
    answer = {"session_id": live_id, "question_id": qid}
    assert anna.emit("question_answer", answer, callback=True)["error"] in (
        "forbidden",
        "not_authenticated",
    )
    assert console.emit("question_answer", answer, callback=True)["ok"]
    for sio in (anna, bea):
        assert [q["id"] for q in received(sio, "question_pinned")] == [qid]
    assert console.emit("question_hide", answer, callback=True)["ok"]
    assert received(anna, "question_pinned") == [None]
    assert received(anna, "question")[-1]["hidden"] is True
    for name in ("poll", "question", "question_pinned"):
        assert received(stranger, name) == []  # another show's room hears nothing

    # A page joining later (a reload, the replay) gets it all in the join's answer.
    late = connect(http=guest_http(app, live_id))
    state = joined(late, live_id)["state"]["interaction"]
    assert state["polls"][0]["answers"][1]["votes"] == 1
    assert state["questions"] == [] and state["pinned_question"] is None


def test_the_scheduler_closes_a_poll_at_its_end_for_everyone(
    cast: Cast,
    app: Flask,
    connect: Connect,  # noqa: F811
) -> None:
    live_id = live_show(cast)
    console = connect(cast.emails["host"])
    joined(console, live_id)
    viewer = connect(http=guest_http(app, live_id))
    joined(viewer, live_id)
    poll = console.emit(
        "poll_create", {"session_id": live_id, **poll_body(seconds=5)}, callback=True
    )
    assert poll["ok"], poll
    received(viewer, "poll")
    cast.session.exec(  # its time is up (rather than waiting five seconds)
        update(Poll)
        .where(col(Poll.id) == poll["poll"]["id"])
        .values(closes_at=utcnow() - timedelta(seconds=1))
    )
    cast.session.commit()
    scheduler = scheduler_of(app)
    scheduler.start("polls")
    assert scheduler.wait_for_runs("polls", 1, timeout=30)
    closed = received(viewer, "poll")
    assert closed and closed[-1]["closed"] is True and closed[-1]["id"] == poll["poll"]["id"]
    late = viewer.emit(
        "poll_vote",
        {
            "session_id": live_id,
            "poll_id": poll["poll"]["id"],
            "answer_id": poll["poll"]["answers"][0]["id"],
        },
        callback=True,
    )
    assert late["ok"] is False and late["error"] == "poll_closed"


def test_joiners_share_the_rooms_polls_until_a_push_and_keep_their_own_votes(
    cast: Cast,
    app: Flask,
    connect: Connect,  # noqa: F811
) -> None:
    """The polls and questions a join answers with are kept per node until the room is
    told something (web/sockets/snapshots.py); who voted for what is each viewer's own."""
    app.extensions["vitrine.room_snapshots"].ttl = 600.0  # only a push ends the copy
    live_id = live_show(cast)
    base = f"/api/live-sessions/{live_id}"
    poll = cast.client(app, "host").post(f"{base}/polls", json=poll_body()).get_json()
    ivory = poll["answers"][0]["id"]
    vote = f"{base}/polls/{poll['id']}/votes"
    voter_http = guest_http(app, live_id)
    assert voter_http.post(vote, json={"answer_id": ivory}).status_code == 201
    mine = joined(connect(http=voter_http), live_id)["state"]["interaction"]
    theirs = joined(connect(http=guest_http(app, live_id)), live_id)["state"]["interaction"]
    assert mine["voted"] == {str(poll["id"]): ivory} and theirs["voted"] == {}
    assert mine["polls"][0]["votes"] == theirs["polls"][0]["votes"] == 1

    edit = update(Poll).where(col(Poll.id) == poll["id"]).values(question="Which coat next?")
    cast.session.exec(edit)  # behind the room's back: no push
    cast.session.commit()
    later = joined(connect(http=guest_http(app, live_id)), live_id)["state"]["interaction"]
    assert later["polls"][0]["question"] == "Which colour next?"  # the node's copy

    # A vote is pushed to the room: the copy is dropped, the next join reads the room.
    assert guest_http(app, live_id).post(vote, json={"answer_id": ivory}).status_code == 201
    last = joined(connect(http=guest_http(app, live_id)), live_id)["state"]["interaction"]
    assert last["polls"][0]["question"] == "Which coat next?"
    assert last["polls"][0]["votes"] == 2 and last["voted"] == {}
