"""Poll and question participation in a show's analytics (#16), from the stored events:
a scripted show with known votes, questions and upvotes is summarised and every figure
equals the hand-computed one — in metrics, the API and the CSV. SQLite, and PostgreSQL
with TEST_DATABASE_URL."""

from __future__ import annotations

import csv
import io

from flask import Flask

from sessions.analytics import events as analytics_events
from sessions.analytics import metrics
from sessions.models import ShowStatus
from sessions.shows import lifecycle, polls, questions
from tests.shows.conftest import Cast
from tests.shows.test_polls import shopper


def test_participation_is_counted_from_the_stored_events(cast: Cast, app: Flask) -> None:
    db = cast.session
    show = cast.show_in(ShowStatus.LIVE)
    live = lifecycle.live_session_for_show(db, show)
    db.commit()
    viewers = [shopper(cast, name) for name in ("Anna", "Béa", "Chloé", "Dora")]
    for n, viewer in enumerate(viewers):
        analytics_events.do_record_join(db, viewer, live, f"view-{n}")
    host = cast.actors["host"]
    colour = polls.do_create_poll(
        db, host, live, question="Colour?", answers=["Ivory", "Noir"], seconds=60
    )
    for viewer in viewers[:2]:  # Anna and Béa vote Noir
        polls.do_vote(db, viewer, live, colour["id"], colour["answers"][1]["id"])
    polls.do_close_poll(db, host, live, colour["id"])
    size = polls.do_create_poll(
        db, host, live, question="Size?", answers=["S", "M", "L"], seconds=60
    )
    polls.do_vote(db, viewers[0], live, size["id"], size["answers"][0]["id"])
    asked = [
        questions.do_ask_question(db, viewers[2], live, text, limiter=None)
        for text in ("Lined?", "Green?", "Price?")
    ] + [questions.do_ask_question(db, viewers[0], live, "Spam", limiter=None)]
    questions.do_upvote_question(db, viewers[0], live, asked[0]["id"])
    questions.do_upvote_question(db, viewers[1], live, asked[0]["id"])
    questions.do_upvote_question(db, viewers[1], live, asked[1]["id"])
    questions.do_answer_question(db, host, live, asked[0]["id"])
    questions.do_hide_question(db, host, live, asked[3]["id"])

    summary = metrics.show_summary(db, live)
    db.commit()  # end the read: on SQLite it would hold the lock the sign-in below needs
    p = summary.participation
    assert (p.polls, p.poll_votes, p.poll_voters) == (2, 3, 2)
    assert p.voters_share == 2 / 4
    assert (p.questions, p.questioners, p.question_upvotes) == (4, 2, 3)
    assert (p.questions_answered_live, p.questions_hidden, p.questions_waiting) == (1, 1, 2)
    assert p.questions_answered_automatically == 0
    assert (p.answered_live_share, p.waiting_share) == (1 / 4, 2 / 4)
    assert [(f.question, f.votes, f.leading) for f in p.polls_list] == [
        ("Colour?", 2, "Noir"),
        ("Size?", 1, "S"),
    ]
    assert summary.funnel.engaged == 3  # Anna, Béa (voted, upvoted), Chloé (asked); not Dora

    admin = cast.client(app, "admin")
    api = admin.get(f"/api/shows/{show.id}/analytics").get_json()["summary"]["participation"]
    assert api["poll_voters"] == 2 and api["questions_waiting"] == 2
    assert api["polls_list"][0]["leading"] == "Noir"
    page = admin.get(f"/admin/analytics/shows/{show.id}")
    assert page.status_code == 200 and "Polls and questions" in page.get_data(as_text=True)
    table = admin.get(f"/admin/analytics/shows/{show.id}/participation.csv")
    rows = list(csv.reader(io.StringIO(table.get_data(as_text=True))))
    by_name = {row[0]: row[1:] for row in rows}
    assert by_name["Voters (share of viewers)"][0] == "2"
    assert by_name["Left waiting"][0] == "2" and by_name["Answered live (on air)"][0] == "1"
    polls_csv = admin.get(f"/admin/analytics/shows/{show.id}/polls.csv").get_data(as_text=True)
    assert "Colour?" in polls_csv and "Noir" in polls_csv
