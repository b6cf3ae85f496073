"""An associate's figures from chat threads, at known moments: first and average response
time (the shopper's message to the associate's next one; an automatic answer is nobody's
response), chats, the brand's share answered automatically, and the one team ranking,
on the console's figures page, its CSV and the admin's analytics page."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlmodel import Session

from sessions.analytics import metrics
from sessions.analytics.coverage import questions
from sessions.analytics.events import ADD_TO_BAG, event_for
from sessions.models import (
    AssociateProfile,
    LiveSession,
    Rating,
    SessionKind,
    SessionStatus,
    Thread,
    ThreadMessage,
    ThreadMessageKind,
    ThreadSide,
    ThreadStatus,
)
from tests.booking.conftest import staff
from tests.conftest import login
from tests.factories import Factory

DAY0 = datetime(2026, 5, 4, tzinfo=UTC)  # the period: 4 and 5 May 2026 (UTC)
START, END = DAY0, DAY0 + timedelta(days=2)


def at(hours: float, seconds: float = 0) -> datetime:
    return DAY0 + timedelta(hours=hours, seconds=seconds)


class Threads:
    """Writes thread messages in order (ids follow), each at an explicit time."""

    def __init__(self, session: Session, factory: Factory, brand_id: int) -> None:
        self.session, self.factory, self.brand_id = session, factory, brand_id

    def thread(self) -> Thread:
        shopper = self.factory.shopper()
        assert shopper.id is not None
        thread = Thread(brand_id=self.brand_id, shopper_id=shopper.id, status=ThreadStatus.ASSIGNED)
        self.session.add(thread)
        self.session.commit()
        return thread

    def say(
        self,
        thread: Thread,
        when: datetime,
        who: AssociateProfile | str,
        kind: ThreadMessageKind = ThreadMessageKind.TEXT,
    ) -> None:
        assert thread.id is not None
        if isinstance(who, AssociateProfile):
            side, user_id, name = ThreadSide.STAFF, who.user_id, who.display_name
        else:
            side, user_id, name = ThreadSide(who), None, who
        self.session.add(
            ThreadMessage(
                thread_id=thread.id,
                side=side,
                kind=kind,
                user_id=user_id,
                author_name=name,
                body="…",
                created_at=when,
            )
        )
        self.session.commit()


def seed(session: Session, factory: Factory) -> tuple[AssociateProfile, AssociateProfile, int]:
    team = staff(factory, session)
    anna = team.anna
    lea = factory.associate(team.brand, team.store, name="Léa")
    assert team.brand.id is not None
    w = Threads(session, factory, team.brand.id)
    shopper, system = "shopper", "system"
    auto = ThreadMessageKind.AUTOMATIC

    one = w.thread()  # answered live by Anna
    w.say(one, at(10), shopper)
    w.say(one, at(10, 5), shopper)  # the same wait: it began at 10:00:00
    w.say(one, at(10, 30), anna)  # 30 s, her first response in this chat
    w.say(one, at(10, 60), shopper)
    w.say(one, at(10, 110), anna)  # 50 s
    w.say(one, at(10, 120), anna)  # no wait open: not a response

    two = w.thread()  # the automatic answer, then Léa picks it up, then Anna
    w.say(two, at(11), shopper)
    w.say(two, at(11), system, auto)  # nobody's response: the shopper still waits
    w.say(two, at(11, 120), lea)  # 120 s
    w.say(two, at(11, 130), system)  # "Transferred to Anna"
    w.say(two, at(11, 180), shopper)
    w.say(two, at(11, 200), anna)  # 20 s: her first response in this chat

    three = w.thread()  # the automatic answer, and nobody since
    w.say(three, at(33), shopper)
    w.say(three, at(33, 1), system, auto)

    four = w.thread()  # asked just before the period, answered in it
    w.say(four, at(0, -20), shopper)
    w.say(four, at(0, 20), anna)  # 40 s, in the period: counted

    five = w.thread()  # answered before the period: not counted
    w.say(five, at(-2), shopper)
    w.say(five, at(-2, 15), anna)

    # A consultation of Anna's in the period: a rating of 4 and a bag of 250.00.
    live = LiveSession(
        brand_id=team.brand.id,
        kind=SessionKind.CONSULTATION,
        associate_id=anna.id,
        room="consult-figures",
        status=SessionStatus.ENDED,
        started_at=at(14),
        ended_at=at(14.5),
    )
    session.add(live)
    session.commit()
    assert live.id is not None and anna.id is not None
    rater = factory.shopper()
    assert rater.id is not None
    session.add(event_for(live, ADD_TO_BAG, value_minor=25000))
    session.add(
        Rating(
            brand_id=team.brand.id,
            associate_id=anna.id,
            live_session_id=live.id,
            shopper_id=rater.id,
            score=4,
            created_at=at(15),
        )
    )
    session.commit()
    return anna, lea, team.brand.id


def test_response_times_chats_and_the_automatic_share(session: Session, factory: Factory) -> None:
    anna, lea, brand_id = seed(session, factory)

    a = metrics.associate_summary(session, anna, START, END)
    assert a.chats == 3  # threads one, two and four
    assert a.responses == 4
    assert a.response_seconds_average == (30 + 50 + 20 + 40) / 4 == 35
    assert a.first_response_seconds_average == (30 + 20 + 40) / 3 == 30
    assert (a.consultations, a.rating_average, a.ratings, a.bag_value_minor) == (1, 4, 1, 25000)

    b = metrics.associate_summary(session, lea, START, END)
    assert (b.chats, b.responses) == (1, 1)
    assert b.first_response_seconds_average == b.response_seconds_average == 120

    days = metrics.associate_days(session, anna, START, END)
    assert [(d.day, d.chats, d.responses) for d in days] == [
        ("2026-05-04", 3, 4),
        ("2026-05-05", 0, 0),
    ]
    assert days[0].first_response_seconds_average == 30
    assert days[0].response_seconds_average == 35
    assert days[1].first_response_seconds_average is None

    q = questions(session, brand_id, START, END)
    # Threads one, two, three were asked in the period (four's question came before it).
    assert (q.chat_threads, q.answered_automatically, q.picked_up_after_automatic) == (3, 2, 1)
    assert q.automatic_share == 2 / 3
    assert (q.asked, q.answered_live, q.left_waiting) == (3, 1, 0)

    # One ranking: Anna's bag value puts her first; the API's all-time ranking agrees.
    assert [r.name for r in metrics.team(session, brand_id, START, END)] == ["Anna", "Léa"]
    whole = metrics.team(session, brand_id, *metrics.all_time(at(48)))
    assert [(r.name, r.chats, r.responses) for r in whole] == [("Anna", 4, 5), ("Léa", 1, 1)]


def test_the_figures_page_its_csv_and_the_team_ranking(
    app: Flask, session: Session, factory: Factory
) -> None:
    anna, _, brand_id = seed(session, factory)
    anna_email = factory.user_of(anna).email
    from sessions.models import Brand

    brand = session.get(Brand, brand_id)
    assert brand is not None
    admin_email = factory.admin(brand).email
    session.commit()
    period = {"start": "2026-05-04", "end": "2026-05-05"}

    associate = app.test_client()
    login(associate, anna_email)
    page = associate.get("/console/figures", query_string=period)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "First response in chats, average" in html and "30 s" in html and "35 s" in html
    assert 'id="response-chart"' in html and "66.7%" in html  # the brand's automatic share

    own = associate.get("/console/figures.csv", query_string=period)
    rows = dict(csv.reader(io.StringIO(own.get_data(as_text=True))))
    assert rows["Chats"] == "3"
    assert rows["First response in chats, average"] == "30 s"
    assert rows["Response time in chats, average (4 responses)"] == "35 s"
    days = list(
        csv.reader(
            io.StringIO(
                associate.get("/console/figures/days.csv", query_string=period).get_data(
                    as_text=True
                )
            )
        )
    )
    assert days[1] == ["2026-05-04", "3", "4", "30", "35"]
    brand_rows = dict(
        csv.reader(
            io.StringIO(
                associate.get("/console/figures/brand.csv", query_string=period).get_data(
                    as_text=True
                )
            )
        )
    )
    assert brand_rows["Share answered automatically"] == "66.7%"
    assert associate.get("/admin/analytics", query_string=period).status_code in (302, 403)

    admin = app.test_client()
    login(admin, admin_email)
    team = admin.get("/admin/analytics/team.csv", query_string=period).get_data(as_text=True)
    ranked = list(csv.reader(io.StringIO(team)))
    assert ranked[0][:2] == ["Rank", "Associate"]
    assert [(r[0], r[1], r[3], r[5], r[6]) for r in ranked[1:]] == [
        ("1", "Anna", "3", "30", "35"),
        ("2", "Léa", "1", "120", "120"),
    ]
    analytics = admin.get("/admin/analytics", query_string=period).get_data(as_text=True)
    assert 'id="team-chart"' in analytics and "Picked up by an associate" in analytics
    ranking = admin.get(f"/api/brands/{brand_id}/ranking").get_json()
    assert [(r["name"], r["chats"]) for r in ranking] == [("Anna", 4), ("Léa", 1)]
    # An admin has no figures of their own: the page says where the team's are.
    assert admin.get("/console/figures").status_code == 404
