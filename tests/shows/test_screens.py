"""The admin's shows screens and the host console offer exactly the allowed moves as POST
forms (with their CSRF token), show the state, and the forms do what they say: a move
allowed redirects, one refused answers 409 with the reason on the page."""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sessions.models import Show, ShowStatus
from sessions.shows.lifecycle import STATUS_WORDS
from tests.conftest import app_config, csrf_token_from, running_app
from tests.shows.conftest import Cast
from tests.shows.test_lifecycle import EXPECTED, ShowAction

S, A = ShowStatus, ShowAction
# The admin's buttons (the host's start and end are the console's; the trim has its form).
ADMIN_BUTTONS = {
    A.SCHEDULE: "schedule",
    A.CANCEL: "cancel",
    A.PUBLISH_REPLAY: "publish-replay",
    A.HIDE_REPLAY: "hide-replay",
}


def allowed_buttons(status: ShowStatus) -> list[str]:
    return [slug for action, slug in ADMIN_BUTTONS.items() if (status, action) in EXPECTED]


def buttons_of(html: str, show_id: int) -> list[str]:
    """The lifecycle forms of one show on a page: each a POST with a CSRF token."""
    forms = re.findall(
        rf'<form method="post" action="/admin/shows/{show_id}/([a-z-]+)"[^>]*>(.*?)</form>',
        html,
        re.S,
    )
    for _, inner in forms:
        assert 'name="csrf_token"' in inner
    return [slug for slug, _ in forms if slug in ADMIN_BUTTONS.values()]


def status_of(engine: Engine, show_id: int | None) -> ShowStatus:
    with Session(engine) as fresh:
        return fresh.exec(select(Show.status).where(Show.id == show_id)).one()


@pytest.mark.parametrize("status", list(ShowStatus), ids=lambda s: s.value)
def test_the_admin_screens_offer_exactly_the_allowed_moves(
    status: ShowStatus, cast: Cast, app: Flask
) -> None:
    show = cast.show_in(status)
    admin = cast.client(app, "admin")
    listing = admin.get("/admin/shows").get_data(as_text=True)
    assert buttons_of(listing, show.id or 0) == allowed_buttons(status)
    row = listing.split(f'data-show-id="{show.id}"', 1)[1].split("</tr>", 1)[0]
    assert f'data-status="{status.value}"' in row and STATUS_WORDS[status] in row
    page = admin.get(f"/admin/shows/{show.id}").get_data(as_text=True)
    assert buttons_of(page, show.id or 0) == allowed_buttons(status)
    assert f'id="show-status" data-status="{status.value}"' in page
    has_trim = f'action="/admin/shows/{show.id}/trim"' in page
    assert has_trim == ((status, A.TRIM_REPLAY) in EXPECTED)
    editable = status in (S.DRAFT, S.SCHEDULED, S.LIVE)
    assert ('id="show-form"' in page) == editable  # the details: while they may change


@pytest.mark.parametrize(
    ("status", "action"), list(product(ShowStatus, ADMIN_BUTTONS)), ids=lambda v: v.value
)
def test_each_admin_form_moves_the_show_or_answers_409(
    status: ShowStatus, action: ShowAction, cast: Cast, app: Flask, engine: Engine
) -> None:
    show = cast.show_in(status)
    show_id = show.id
    admin = cast.client(app, "admin")
    answer = admin.post(f"/admin/shows/{show_id}/{ADMIN_BUTTONS[action]}", data={"back": "show"})
    expected = EXPECTED.get((status, action))
    if expected is None:
        assert answer.status_code == 409
        page = answer.get_data(as_text=True)
        assert 'role="alert">This show ' in page
        assert status_of(engine, show_id) is status
    else:
        assert answer.status_code == 302
        assert answer.headers["Location"].endswith(f"/admin/shows/{show_id}")
        assert status_of(engine, show_id) is expected


def test_an_associate_gets_no_admin_moves(cast: Cast, app: Flask, engine: Engine) -> None:
    show = cast.show_in(S.SCHEDULED)
    show_id = show.id
    host = cast.client(app, "host")
    assert host.post(f"/admin/shows/{show_id}/cancel").status_code == 403
    assert status_of(engine, show_id) is S.SCHEDULED


def test_a_draft_is_saved_then_scheduled_from_the_forms(
    cast: Cast, app: Flask, engine: Engine
) -> None:
    admin = cast.client(app, "admin")
    form = {
        "title": "Private preview",
        "starts_at": "2031-05-01T18:00",
        "timezone": "Europe/Paris",
        "duration_minutes": "30",
        "host_ids": [str(cast.host.id)],
        "then": "draft",
    }
    assert admin.post("/admin/shows/new", data=form).status_code == 302
    with Session(engine) as fresh:
        show = fresh.exec(select(Show).where(Show.title == "Private preview")).one()
    assert show.status is S.DRAFT
    assert admin.post(f"/admin/shows/{show.id}/schedule").status_code == 302
    assert status_of(engine, show.id) is S.SCHEDULED


def test_the_trim_form(cast: Cast, app: Flask, session: Session) -> None:
    show = cast.show_in(S.ENDED)
    show_id = show.id
    admin = cast.client(app, "admin")
    bad = admin.post(
        f"/admin/shows/{show_id}/trim", data={"trim_start": "2:00", "trim_end": "1:00"}
    )
    assert bad.status_code == 422 and "The end must come after the start." in bad.get_data(
        as_text=True
    )
    typo = admin.post(f"/admin/shows/{show_id}/trim", data={"trim_start": "two", "trim_end": ""})
    assert typo.status_code == 422 and "minutes:seconds" in typo.get_data(as_text=True)
    ok = admin.post(
        f"/admin/shows/{show_id}/trim", data={"trim_start": "0:12.5", "trim_end": "1:02:03"}
    )
    assert ok.status_code == 302
    with Session(session.get_bind()) as fresh:
        row = fresh.get(Show, show_id)
        assert row is not None
        assert (row.replay_start_seconds, row.replay_end_seconds) == (12.5, 3723)
    page = admin.get(f"/admin/shows/{show_id}").get_data(as_text=True)
    assert 'value="0:12.5"' in page and 'value="1:02:03"' in page


def test_the_forms_carry_a_csrf_token_that_is_checked(
    cast: Cast, database_url: str, tmp_path: Path
) -> None:
    """With CSRF on (as in production): a transition POST without the token is refused,
    with the page's token it goes through."""
    show = cast.show_in(S.SCHEDULED)
    show_id = show.id
    with running_app(app_config(database_url, tmp_path, WTF_CSRF_ENABLED=True)) as app:
        admin = app.test_client()
        page = admin.get("/login").get_data(as_text=True)
        token = csrf_token_from(page)
        signed = admin.post(
            "/login",
            data={
                "email": cast.emails["admin"],
                "password": cast.factory.PASSWORD,
                "csrf_token": token,
            },
        )
        assert signed.status_code == 302
        assert admin.post(f"/admin/shows/{show_id}/cancel").status_code == 400
        listing = admin.get("/admin/shows").get_data(as_text=True)
        token = csrf_token_from(listing)
        assert (
            admin.post(f"/admin/shows/{show_id}/cancel", data={"csrf_token": token}).status_code
            == 302
        )


# --- the host console ------------------------------------------------------------------------


def visible_forms(html: str, show_id: int) -> list[str]:
    """The console's lifecycle forms that are shown (not `hidden`), each with its token."""
    found = []
    for attrs, inner in re.findall(
        rf'<form method="post"([^>]*action="/console/shows/{show_id}/(?:start|end)"[^>]*)>'
        r"(.*?)</form>",
        html,
        re.S,
    ):
        assert 'name="csrf_token"' in inner
        if " hidden" not in attrs:
            found.append(re.search(r"/(start|end)\"", attrs).group(1))  # type: ignore[union-attr]
    return found


@pytest.mark.parametrize("status", list(ShowStatus), ids=lambda s: s.value)
def test_the_console_offers_the_host_exactly_start_or_end(
    status: ShowStatus, cast: Cast, app: Flask
) -> None:
    show = cast.show_in(status)
    page = cast.client(app, "host").get(f"/console/shows/{show.id}").get_data(as_text=True)
    expected = [
        name
        for action, name in ((A.START, "start"), (A.END, "end"))
        if (status, action) in EXPECTED
    ]
    assert visible_forms(page, show.id or 0) == expected
    assert f'id="show-status" data-status="{status.value}"' in page
    # A colleague works the room but is offered no move, and is told why.
    other = cast.client(app, "colleague").get(f"/console/shows/{show.id}").get_data(as_text=True)
    assert visible_forms(other, show.id or 0) == []
    assert "Only this show's hosts go live and end it" in other


def test_the_console_forms_work_without_the_script(cast: Cast, app: Flask, engine: Engine) -> None:
    show = cast.show_in(S.SCHEDULED)
    show_id = show.id
    colleague, host = cast.client(app, "colleague"), cast.client(app, "host")
    assert colleague.post(f"/console/shows/{show_id}/start").status_code == 403
    assert host.post(f"/console/shows/{show_id}/end").status_code == 409
    assert host.post(f"/console/shows/{show_id}/start").status_code == 302
    assert status_of(engine, show_id) is S.LIVE
    refused = host.post(f"/console/shows/{show_id}/start")
    assert refused.status_code == 409
    assert "This show is live: it can be started only when it is scheduled." in refused.get_data(
        as_text=True
    ).replace("&#39;", "'")
    assert host.post(f"/console/shows/{show_id}/end").status_code == 302
    assert status_of(engine, show_id) is S.ENDED
