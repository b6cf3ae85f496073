"""GET changes nothing: every API GET route and every page, as each kind of person.

The world has what reading used to change: a talk-now offer nobody answered for an hour
(reading the shopper's place in the queue, or the associate's day, used to route the
queue and pass it on), a consultation, a live show and a waiting shopper. Every row of
every table is compared before and after each GET.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sessions.accounts import invitations, resets
from sessions.clock import utcnow
from sessions.models import (
    Appointment,
    CohostKind,
    LiveSession,
    QueueRequest,
    QueueStatus,
    Role,
    Shopper,
    ShowCohost,
    ShowReminder,
    SignInLink,
    User,
)
from sessions.service import queue
from sessions.service.appointments import manage_token
from sessions.service.signin import link_token as signin_link_token
from sessions.shows.cohost import hash_token
from sessions.shows.reminders import unsubscribe_token
from tests.factories import OPERATOR, Factory
from tests.security.consultation_world import (
    ANONYMOUS,
    EVERYONE,
    HOST,
    SHOPPER,
    World,
    changed_tables,
    make_world,
    snapshot,
)
from tests.service.matrix import saved_reply, waiting_thread

PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
# Files, not views: nothing to read in a table.
SKIPPED = {"static", "media.upload"}
# Routes about a consultation take the consultation's id, the others the show's live session.
CONSULTATION_ROUTES = {
    "service.room",
    "service.associate_room",
    "service.rate",
    "media.snapshot",
}
# A live room's first reads used to make a first-time visitor's guest row (a socket cannot
# set the cookie); now they hand out a guest key only, and the first action makes the row.
GUEST_ON_FIRST_VISIT = {"api.get_live_session", "shop.embed_show"}


def get_rules(app: Flask) -> list[tuple[str, str]]:
    return sorted(
        (rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and rule.endpoint not in SKIPPED
    )


def stale_offer(session: Session, world: World) -> int:
    """The consultation's shopper asks to talk now; it is offered to the host, who never
    answers: an hour later any routing passes it on."""
    world.host.status = world.host.status.ONLINE
    world.host.console_seen_at = utcnow()  # the console is open (auto-away: routing.py)
    session.add(world.host)
    session.commit()
    appointment = session.get(Appointment, _consultation(session, world).appointment_id)
    assert appointment is not None
    shopper = session.get(Shopper, appointment.shopper_id)
    assert shopper is not None and shopper.id is not None
    request = queue.do_enqueue(session, brand=world.brand_a, shopper_id=shopper.id)
    assert isinstance(request, QueueRequest) and request.status is QueueStatus.OFFERED
    request.offered_at = utcnow() - timedelta(hours=1)
    session.add(request)
    session.commit()
    assert request.id is not None
    return request.id


def _consultation(session: Session, world: World) -> LiveSession:
    live = session.get(LiveSession, world.consultation_id)
    assert live is not None
    return live


def show_reminder(session: Session, world: World) -> ShowReminder:
    reminder = ShowReminder(show_id=world.show_id, email="reminded@example.com")
    session.add(reminder)
    session.commit()
    return reminder


def signin_link(session: Session, world: World, shopper_id: int) -> SignInLink:
    link = SignInLink(
        brand_id=world.brand_a.id or 0,
        shopper_id=shopper_id,
        email="back@example.com",
        expires_at=utcnow() + timedelta(minutes=30),
    )
    session.add(link)
    session.commit()
    return link


def invitation_token(app: Flask, session: Session, world: World) -> str:
    made = invitations.do_invite(
        session,
        OPERATOR,
        brand_id=world.brand_a.id or 0,
        email="invited@example.com",
        name="Invited",
        role=Role.BRAND_ADMIN,
        secret=app.config["SECRET_KEY"],
    )
    return invitations.token_of(app.config["SECRET_KEY"], made)


def reset_token(app: Flask, session: Session, world: World) -> str:
    admin = session.exec(select(User).where(User.role == Role.BRAND_ADMIN)).first()
    assert admin is not None
    made = resets.do_request_reset(
        session, email=admin.email, client="matrix", secret=app.config["SECRET_KEY"]
    )
    assert made is not None
    return resets.token_of(app.config["SECRET_KEY"], made)


def guest_cohost(session: Session, world: World, token: str) -> int:
    """A show's guest co-host invitation: its link's page asks, only its POST accepts."""
    cohost = ShowCohost(
        show_id=world.show_id,
        kind=CohostKind.GUEST,
        display_name="Inès",
        token_hash=hash_token(token),
        expires_at=utcnow() + timedelta(hours=1),
    )
    session.add(cohost)
    session.commit()
    assert cohost.id is not None
    return cohost.id


def invitee_token(session: Session, world: World) -> str:
    from sessions.shows import invitees, private
    from tests.factories import OPERATOR

    show = Factory(session).show(world.brand_a)
    private.do_set_show_private(session, OPERATOR, show, "walk-code")
    made, _ = invitees.do_invite(session, OPERATOR, show, [("Inès", "ines@example.com")])
    session.commit()
    return made[0].token


def url_of(endpoint: str, rule: str, ids: dict[str, object]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "live_session_id" and endpoint in CONSULTATION_ROUTES:
            name = "consultation_id"
        assert name in ids, f"GET {rule}: add '{name}' to this test's ids"
        return str(ids[name])

    return PARAM.sub(fill, rule)


@pytest.fixture
def world(app: Flask, factory: Factory, session: Session) -> World:
    return make_world(app, factory, session)


@pytest.fixture
def ids(app: Flask, world: World, session: Session) -> dict[str, object]:
    request_id = stale_offer(session, world)
    appointment = session.get(Appointment, _consultation(session, world).appointment_id)
    assert appointment is not None
    made: dict[str, object] = {
        "brand_id": world.brand_a.id,
        "slug": world.brand_a.slug,
        "associate_id": world.host.id,
        "product_id": world.product_a.id,
        "show_id": world.show_id,
        "live_session_id": world.show_live_id,
        "consultation_id": world.consultation_id,
        "shopper_id": appointment.shopper_id,  # privacy: a shopper's data, read by export
        "request_id": request_id,
        "thread_id": waiting_thread(session, world.brand_a.id or 0, appointment.shopper_id, None),
        "reply_id": saved_reply(session, world.brand_a.id or 0),
        "token": manage_token(app.config["SECRET_KEY"], appointment),
        "hold_id": 999_999,  # a waitlist hold (none here: a 404, still a GET)
        "name": "try-on.jpg",  # a consultation's snapshot (none was sent: a 404 to everyone)
        "language": "fr",  # a replay's captions (none here: a 404, still a GET)
        "table": "shows",  # an analytics export (for a show's exports: a 404, still a GET)
        # The unsubscribe link of a show reminder: its page asks, only its POST unsubscribes.
        "reminder_token": unsubscribe_token(
            app.config["SECRET_KEY"], show_reminder(session, world)
        ),
        # Staff e-mailed links: an invitation's page and a reset's page ask; only POSTs act.
        "invitation_token": invitation_token(app, session, world),
        "reset_token": reset_token(app, session, world),
        # A private show's personal link: its page shows and asks, only its POST takes a pass.
        "invitee_token": invitee_token(session, world),
        # A returning shopper's e-mailed sign-in link: its page asks, only its POST signs in.
        "signin_token": signin_link_token(
            app.config["SECRET_KEY"], signin_link(session, world, appointment.shopper_id)
        ),
        # A show's co-host: the guest link's page (GET asks; the POST accepts) and the
        # co-host's page (theirs only: a 403 to everyone here).
        "cohost_token": "guest-link-token",
        "cohost_id": guest_cohost(session, world, "guest-link-token"),
    }
    session.commit()  # end the read: on SQLite it would hold the write lock
    return made


def test_every_get_route_is_walked(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _ in get_rules(app)}
    # The two reads that used to route the talk-now queue are among them.
    assert {"api.consult_queue_status", "api.consult_today", "service.today"} <= endpoints
    assert len(endpoints) >= 50


@pytest.mark.parametrize("who", EVERYONE)
def test_no_get_changes_a_row(
    who: str, app: Flask, world: World, ids: dict[str, object], engine: Engine
) -> None:
    changed: dict[str, list[str]] = {}
    for endpoint, rule in get_rules(app):
        # Nobody: a fresh browser each time, so every route meets a first visit.
        client = app.test_client() if who == ANONYMOUS else world.as_(who)
        before = snapshot(engine)
        response = client.get(url_of(endpoint, rule, ids))
        assert response.status_code < 500, f"GET {rule} as {who}: {response.status_code}"
        tables = changed_tables(before, snapshot(engine))
        if tables:
            changed[rule] = tables
    assert changed == {}, f"GET changed rows as {who}"


@pytest.mark.parametrize("endpoint", sorted(GUEST_ON_FIRST_VISIT))
def test_a_first_visit_creates_no_guest_row(
    endpoint: str, app: Flask, world: World, ids: dict[str, object], engine: Engine
) -> None:
    rule = dict(get_rules(app))[endpoint]
    before = snapshot(engine)
    assert app.test_client().get(url_of(endpoint, rule, ids)).status_code == 200
    assert changed_tables(before, snapshot(engine)) == []


@pytest.mark.parametrize("who", [SHOPPER, HOST])
def test_the_stale_offer_passes_on_in_the_scheduler_not_in_a_read(
    who: str, app: Flask, world: World, ids: dict[str, object], session: Session
) -> None:
    """The control: the offer is really due, and the scheduler's routing moves it."""
    for url in (f"/api/queue/{ids['request_id']}", f"/api/associates/{world.host.id}/today"):
        assert world.as_(who).get(url).status_code < 500
    request = session.get(QueueRequest, ids["request_id"])
    assert request is not None
    session.refresh(request)
    assert request.status is QueueStatus.OFFERED
    session.commit()
    queue.route_all(session, accept_seconds=30)
    session.refresh(request)
    assert str(world.host.id) in request.declined_by  # the host let it pass
    session.commit()
