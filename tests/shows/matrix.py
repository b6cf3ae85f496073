"""Shows in the roles x endpoints matrix (tests/test_access_matrix.py): the host's moves
are its hosts' (brand A's associate hosts the world's show; its admin does not), and each
move is tried on a show in a state that allows it, so the one allowed gets its success."""

from __future__ import annotations

from sqlmodel import Session

from sessions.models import AssociateProfile, Brand, ShowStatus
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory

S = ShowStatus
# Start and end: the show's hosts alone (the brand's admin is refused, as a colleague is).
FOR_THE_SHOWS_HOSTS = {
    ("post", "/shows/<int:show_id>/start"),
    ("post", "/shows/<int:show_id>/end"),
}
STATE_FOR = {
    ("post", "/shows/<int:show_id>/schedule"): S.DRAFT,
    ("post", "/shows/<int:show_id>/end"): S.LIVE,
    ("post", "/shows/<int:show_id>/replay/publish"): S.ENDED,
    ("post", "/shows/<int:show_id>/replay/hide"): S.ENDED,
    ("post", "/shows/<int:show_id>/replay/trim"): S.ENDED,
}


def show_ids(
    method: str, rule: str, session: Session, brand: Brand, host: AssociateProfile
) -> dict[str, int]:
    """A show of brand A, hosted by its associate, in the state the move starts from."""
    if "/invitees" in rule:
        return invitee_ids(session, brand, host)
    status = STATE_FOR.get((method, rule))
    if status is None:
        return {}
    assert brand.id is not None
    show = Factory(session).show(brand, host_ids=[host.id], draft=status is S.DRAFT)
    if status in (S.LIVE, S.ENDED):
        lifecycle.do_start_show(session, OPERATOR, show)
    if status is S.ENDED:
        lifecycle.do_end_show(session, OPERATOR, show, replay_url="http://relay.test/r.webm")
    session.commit()
    assert show.id is not None
    return {"show_id": show.id}


# A show's polls and questions: a live show of brand A, with an open poll and a question.
INTERACTION = {
    ("post", "/live-sessions/<int:live_session_id>/polls"),
    ("post", "/live-sessions/<int:live_session_id>/polls/<int:poll_id>/close"),
    ("post", "/live-sessions/<int:live_session_id>/questions/<int:question_id>/answer"),
    ("post", "/live-sessions/<int:live_session_id>/questions/<int:question_id>/hide"),
}


def interaction_ids(
    method: str, rule: str, session: Session, brand: Brand, host: AssociateProfile
) -> dict[str, int]:
    if (method, rule) not in INTERACTION:
        return {}
    from sessions.access import Actor, ActorKind
    from sessions.shows import polls, questions

    show = Factory(session).show(brand, host_ids=[host.id])
    lifecycle.do_start_show(session, OPERATOR, show)
    live = lifecycle.live_session_for_show(session, show)
    ids: dict[str, int] = {"show_id": show.id or 0, "live_session_id": live.id or 0}
    if rule.endswith("/close"):
        poll = polls.do_create_poll(
            session, OPERATOR, live, question="Q?", answers=["Yes", "No"], seconds=60
        )
        ids["poll_id"] = poll["id"]
    if "question_id" in rule:
        shopper = Factory(session).shopper()
        asker = Actor(kind=ActorKind.SHOPPER, shopper_id=shopper.id)
        question = questions.do_ask_question(session, asker, live, "Lined?", limiter=None)
        ids["question_id"] = question["id"]
    session.commit()
    return ids


def invitee_ids(session: Session, brand: Brand, host: AssociateProfile) -> dict[str, int]:
    """A private show of brand A with one invitee (personal links: the brand's admin's)."""
    from sessions.shows import invitees, private

    show = Factory(session).show(brand, host_ids=[host.id])
    private.do_set_show_private(session, OPERATOR, show, "matrix-code")
    guest = [("Camille", "matrix-invitee@example.com")]
    made, _ = invitees.do_invite(session, OPERATOR, show, guest)
    assert show.id is not None and made[0].invitee.id is not None
    session.commit()
    return {"show_id": show.id, "invitee_id": made[0].invitee.id}
