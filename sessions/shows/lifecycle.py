"""A show's life, enforced: every move of its state is one action, which refuses the others.

    draft ──schedule──▶ scheduled ──start──▶ live ──end──▶ ended ──publish──▶ replay_published
      │                    │                                 │  ◀──publish──┐      │
      └──────cancel────────┴──▶ cancelled                    └──hide──▶ replay_hidden ◀─hide─┘

``TRANSITIONS`` is the whole table: for each action, the states it may start from, where
it leads and whose it is. An action asked in any other state is a ``Conflict`` (409) that
says what the show is and when the action would be possible. The move itself is a
conditional ``UPDATE shows SET status = ... WHERE status IN (...)``: two people pressing
two buttons at once (an admin cancels while the host goes live) get one success and one
409, on any number of nodes. Who may act is decided in ``sessions.access`` (one gate per
decision): the show's hosts start and end it; its brand's admin schedules, cancels, and
publishes, hides or trims the replay. Each move publishes ``show_state`` to the show's
room, so every viewer's page learns it by push.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from sessions.access import (
    Actor,
    access_show_on_air,
    access_show_programme,
    access_show_replay,
    can_host_show,
)
from sessions.catalogue import new_room_name
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, DomainError, InvalidInput, NotFound
from sessions.events import publish
from sessions.i18n import Either, Phrase
from sessions.models import (
    AssociateProfile,
    LiveSession,
    Product,
    SessionKind,
    SessionStatus,
    Show,
    ShowCohost,
    ShowHost,
    ShowProduct,
    ShowStatus,
)

S = ShowStatus


class ShowAction(enum.StrEnum):
    SCHEDULE = "schedule"
    CANCEL = "cancel"
    START = "start"
    END = "end"
    PUBLISH_REPLAY = "publish_replay"
    HIDE_REPLAY = "hide_replay"
    TRIM_REPLAY = "trim_replay"


class Who(enum.StrEnum):
    HOSTS = "the show's hosts"
    BRAND_ADMIN = "the brand's admin"


@dataclass(frozen=True)
class Transition:
    action: ShowAction
    sources: frozenset[ShowStatus]
    target: ShowStatus | None  # None: the state stays (a trim)
    who: Who
    label: str  # the button
    done: str  # how the refusal names it: "This show ... : it can be <done> only when ..."


def _t(
    action: ShowAction,
    sources: Iterable[ShowStatus],
    target: ShowStatus | None,
    who: Who,
    *words: str,
) -> tuple[ShowAction, Transition]:
    label, done = words
    return action, Transition(action, frozenset(sources), target, who, label, done)


A = ShowAction
TRANSITIONS: dict[ShowAction, Transition] = dict(
    [
        _t(A.SCHEDULE, [S.DRAFT], S.SCHEDULED, Who.BRAND_ADMIN, "Schedule", N_("scheduled")),
        _t(
            A.CANCEL,
            [S.DRAFT, S.SCHEDULED],
            S.CANCELLED,
            Who.BRAND_ADMIN,
            "Cancel",
            N_("cancelled"),
        ),
        _t(A.START, [S.SCHEDULED], S.LIVE, Who.HOSTS, "Go live", N_("started")),
        _t(A.END, [S.LIVE], S.ENDED, Who.HOSTS, "End show", N_("ended")),
        _t(
            A.PUBLISH_REPLAY,
            [S.ENDED, S.REPLAY_HIDDEN],
            S.REPLAY_PUBLISHED,
            Who.BRAND_ADMIN,
            "Publish replay",
            N_("given a published replay"),
        ),
        _t(
            A.HIDE_REPLAY,
            [S.ENDED, S.REPLAY_PUBLISHED],
            S.REPLAY_HIDDEN,
            Who.BRAND_ADMIN,
            "Hide replay",
            N_("given a hidden replay"),
        ),
        _t(
            A.TRIM_REPLAY,
            [S.ENDED, S.REPLAY_PUBLISHED, S.REPLAY_HIDDEN],
            None,
            Who.BRAND_ADMIN,
            "Save trim",
            N_("trimmed"),
        ),
    ]
)

# How a refusal describes a state: "This show <is>", "... only when it is <when>".
_IS = {
    S.DRAFT: Phrase(N_("is a draft")),
    S.SCHEDULED: Phrase(N_("is scheduled")),
    S.LIVE: Phrase(N_("is live")),
    S.ENDED: Phrase(N_("has ended")),
    S.REPLAY_PUBLISHED: Phrase(N_("has ended and its replay is published")),
    S.REPLAY_HIDDEN: Phrase(N_("has ended and its replay is hidden")),
    S.CANCELLED: Phrase(N_("was cancelled")),
}
_WHEN = {
    S.DRAFT: Phrase(N_("a draft")),
    S.SCHEDULED: Phrase(N_("scheduled")),
    S.LIVE: Phrase(N_("live")),
    S.ENDED: Phrase(N_("ended")),
    S.REPLAY_PUBLISHED: Phrase(N_("showing its replay")),
    S.REPLAY_HIDDEN: Phrase(N_("hiding its replay")),
    S.CANCELLED: Phrase(N_("cancelled")),
}
# Shows whose details may still change (title, time, hosts, products).
EDITABLE = frozenset({S.DRAFT, S.SCHEDULED, S.LIVE})
# Shows shoppers may ask to be reminded of.
UPCOMING = frozenset({S.SCHEDULED})
STATUS_WORDS = {
    S.DRAFT: "Draft",
    S.SCHEDULED: "Scheduled",
    S.LIVE: "Live",
    S.ENDED: "Ended",
    S.REPLAY_PUBLISHED: "Replay published",
    S.REPLAY_HIDDEN: "Replay hidden",
    S.CANCELLED: "Cancelled",
}


def refusal(show: Show, action: ShowAction) -> Conflict:
    """The 409 of an action asked in a state it does not start from."""
    transition = TRANSITIONS[action]
    order = list(ShowStatus)
    when = Either(_WHEN[s] for s in sorted(transition.sources, key=order.index))
    return Conflict(
        N_("This show %(is)s: it can be %(done)s only when it is %(when)s."),
        params={"is": _IS[show.status], "done": Phrase(transition.done), "when": when},
        code="invalid_transition",
        status=show.status.value,
        action=action.value,
    )


# --- reading ----------------------------------------------------------------------------


# Built once with a parameter: sessions/db.py, "statements built once".
_LIVE_OF_SHOW = select(LiveSession).where(LiveSession.show_id == bindparam("show"))
_HOSTS_OF_SHOW = select(ShowHost.associate_id).where(ShowHost.show_id == bindparam("show"))


def live_session_for_show(db: Session, show: Show) -> LiveSession:
    live = db.exec(_LIVE_OF_SHOW, params={"show": show.id}).first()
    if live is None:
        raise NotFound("This show has no live session.")
    return live


def host_ids(db: Session, show: Show) -> frozenset[int]:
    return frozenset(db.exec(_HOSTS_OF_SHOW, params={"show": show.id}))


def allowed_in_state(status: ShowStatus) -> list[ShowAction]:
    """The actions a show in this state accepts, whoever asks."""
    return [a for a, t in TRANSITIONS.items() if status in t.sources]


def may_act(actor: Actor, show: Show, action: ShowAction, hosts: frozenset[int]) -> bool:
    """Would this actor's ``action`` pass its gate (the state aside)?"""
    try:
        _gate(actor, show, action, hosts)
    except DomainError:
        return False
    return True


def actions_for(db: Session, actor: Actor, show: Show) -> list[ShowAction]:
    """Exactly the actions this actor may take on this show now: the buttons to offer."""
    hosts = host_ids(db, show)
    return [a for a in allowed_in_state(show.status) if may_act(actor, show, a, hosts)]


def is_host(db: Session, actor: Actor, show: Show) -> bool:
    return can_host_show(actor, show, host_ids(db, show))


# --- the gate and the move -----------------------------------------------------------------


def _gate(actor: Actor, show: Show, action: ShowAction, hosts: frozenset[int]) -> None:
    if TRANSITIONS[action].who is Who.HOSTS:
        access_show_on_air(actor, show, hosts)
    elif action in (A.PUBLISH_REPLAY, A.HIDE_REPLAY, A.TRIM_REPLAY):
        access_show_replay(actor, show)
    else:
        access_show_programme(actor, show)


def check_action(db: Session, actor: Actor, show: Show, action: ShowAction) -> None:
    """Raise what the action would raise (403, 409) before any of its work starts: ending
    a show asks the relay to close its recording, which must not happen for a 409."""
    _gate(actor, show, action, host_ids(db, show))
    if show.status not in TRANSITIONS[action].sources:
        raise refusal(show, action)


def _move(db: Session, show: Show, action: ShowAction, **values: object) -> None:
    """The conditional UPDATE: the show moves only from a state the action accepts (read
    again in the database, not trusted from the object), in the caller's transaction."""
    transition = TRANSITIONS[action]
    target = {"status": transition.target} if transition.target is not None else {}
    result = db.exec(
        update(Show)
        .where(col(Show.id) == show.id, col(Show.status).in_(list(transition.sources)))
        .values(**target, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.rollback()
        db.refresh(show)  # what the show became meanwhile, for the refusal to say
        db.commit()  # end the read: on SQLite it would hold the write lock
        raise refusal(show, action)
    for name, value in (target | values).items():  # the object follows the row
        setattr(show, name, value)
    db.add(show)


def _act(
    db: Session,
    actor: Actor,
    show: Show,
    action: ShowAction,
    also: Callable[[LiveSession], None] | None = None,
    **values: object,
) -> LiveSession:
    """Gate, move, update the live session alongside, commit, then tell the room."""
    check_action(db, actor, show, action)
    live = live_session_for_show(db, show)
    _move(db, show, action, **values)
    if also is not None:
        also(live)
        db.add(live)
    db.commit()
    if TRANSITIONS[action].target is not None:
        publish("show_state", live.room, show_id=show.id, status=show.status.value)
    return live


def do_schedule_show(db: Session, actor: Actor, show: Show) -> Show:
    """draft -> scheduled: the show appears on the brand's pages; shoppers may ask to be
    reminded of it."""
    if show.status is S.DRAFT and show.starts_at < utcnow():
        access_show_programme(actor, show)
        raise InvalidInput("Move the start to a time to come first.", field="starts_at")
    _act(db, actor, show, A.SCHEDULE)
    return show


def do_cancel_show(db: Session, actor: Actor, show: Show) -> Show:
    """draft or scheduled -> cancelled; its room closes (nobody chats in a cancelled show)."""

    def close(live: LiveSession) -> None:
        live.status = SessionStatus.ENDED
        live.ended_at = utcnow()

    invited = _cohost_of(db, show)
    _act(db, actor, show, A.CANCEL, close)
    _withdraw_cohost_invitation(db, invited)
    return show


def do_start_show(db: Session, actor: Actor, show: Show) -> LiveSession:
    """scheduled -> live, by one of its hosts. Those who asked to be reminded are told by
    the reminders job (``sessions.shows.reminders``), which finds the show live."""

    def open_room(live: LiveSession) -> None:
        live.status = SessionStatus.LIVE
        live.started_at = live.started_at or utcnow()
        live.ended_at = None

    return _act(db, actor, show, A.START, open_room)


def do_end_show(
    db: Session, actor: Actor, show: Show, *, replay_url: str | None = None
) -> LiveSession:
    """live -> ended, by one of its hosts; ``replay_url`` is the relay's recording of it,
    kept for the replay (which the brand's admin then publishes, or hides)."""

    def close(live: LiveSession) -> None:
        live.status = SessionStatus.ENDED
        live.ended_at = utcnow()

    values = {"replay_path": replay_url} if replay_url else {}
    invited = _cohost_of(db, show)
    live = _act(db, actor, show, A.END, close, **values)
    _withdraw_cohost_invitation(db, invited)
    return live


# A show over takes no co-host: an associate's invitation leaves their console. The
# co-host is read before the move, in its transaction: after its commit, a read would
# open another (on SQLite, holding the write lock until the request ends).
def _cohost_of(db: Session, show: Show) -> ShowCohost | None:
    from sessions.shows import cohost  # (cohost builds on this module)

    return cohost.current_cohost(db, show)


def _withdraw_cohost_invitation(db: Session, invited: ShowCohost | None) -> None:
    from sessions.shows import cohost

    if invited is not None:
        cohost.tell_associate(db, invited, withdrawn=True)


def do_publish_replay(db: Session, actor: Actor, show: Show) -> Show:
    """ended or hidden -> replay published: the recording plays on the show page and the
    brand's page lists it."""
    check_action(db, actor, show, A.PUBLISH_REPLAY)
    if not show.replay_path:
        raise Conflict("This show has no recording to publish.", code="no_recording")
    _act(db, actor, show, A.PUBLISH_REPLAY)
    return show


def do_hide_replay(db: Session, actor: Actor, show: Show) -> Show:
    """ended or published -> replay hidden: shoppers no longer see the replay."""
    _act(db, actor, show, A.HIDE_REPLAY)
    return show


MAX_REPLAY_SECONDS = 24 * 3600


def _seconds(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput("Give the time in seconds.", field=field)
    if not 0 <= value <= MAX_REPLAY_SECONDS or value != value:  # NaN is not a time
        raise InvalidInput(
            N_("Give a time from 0 to %(n)s seconds."),
            params={"n": MAX_REPLAY_SECONDS},
            field=field,
        )
    return float(value)


def do_trim_replay(
    db: Session, actor: Actor, show: Show, *, start_seconds: object, end_seconds: object = None
) -> Show:
    """Keep the part of the recording from ``start_seconds`` to ``end_seconds`` (None: to
    its end): the replay player starts and stops there. The recording itself is kept."""
    check_action(db, actor, show, A.TRIM_REPLAY)
    start = _seconds(start_seconds, "start_seconds")
    end = None if end_seconds is None else _seconds(end_seconds, "end_seconds")
    if end is not None and end <= start:
        raise InvalidInput("The end must come after the start.", field="end_seconds")
    _act(db, actor, show, A.TRIM_REPLAY, replay_start_seconds=start, replay_end_seconds=end)
    return show


# --- creating and editing (not moves: the web layer gates them with access_show_programme) --


def _check_hosts(db: Session, brand_id: int, ids: list[int]) -> None:
    for host_id in ids:
        profile = db.get(AssociateProfile, host_id)
        if profile is None or profile.brand_id != brand_id:
            raise InvalidInput("Choose hosts among this brand's associates.", field="host_ids")


def _check_products(db: Session, brand_id: int, product_ids: list[int]) -> None:
    for product_id in product_ids:
        product = db.get(Product, product_id)
        if product is None or product.brand_id != brand_id:
            raise InvalidInput("Choose products from this brand's catalogue.", field="product_ids")


def do_create_show(
    db: Session,
    *,
    brand_id: int,
    title: str,
    starts_at: datetime,
    duration_minutes: int = 45,
    description: str = "",
    host_ids: list[int] | None = None,
    product_ids: list[int] | None = None,
    cover_path: str | None = None,
    store_id: int | None = None,
    draft: bool = False,
    allow_past: bool = False,
) -> Show:
    """A new show, scheduled at once (or kept as a draft, seen by the brand's staff only),
    with its live session (the room it will be on air in)."""
    if starts_at.tzinfo is None:
        raise InvalidInput("Give the start time with its time zone.", field="starts_at")
    if not allow_past and starts_at < utcnow() - timedelta(minutes=5):
        raise InvalidInput("The show cannot start in the past.", field="starts_at")
    hosts = host_ids or []
    product_ids = product_ids or []
    _check_hosts(db, brand_id, hosts)
    _check_products(db, brand_id, product_ids)
    show = Show(
        brand_id=brand_id,
        title=title.strip(),
        description=description,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        cover_path=cover_path,
        store_id=store_id,
        status=S.DRAFT if draft else S.SCHEDULED,
    )
    db.add(show)
    db.flush()
    assert show.id is not None
    for host_id in hosts:
        db.add(ShowHost(show_id=show.id, associate_id=host_id))
    for position, product_id in enumerate(product_ids):
        db.add(ShowProduct(show_id=show.id, product_id=product_id, position=position))
    db.add(
        LiveSession(
            brand_id=brand_id, kind=SessionKind.SHOW, show_id=show.id, room=new_room_name("show")
        )
    )
    db.commit()
    return show


def do_update_show(
    db: Session,
    show: Show,
    *,
    host_ids: list[int] | None = None,
    product_ids: list[int] | None = None,
    **changes: object,
) -> Show:
    """Title, description, time, length, cover, hosts, products: while the show is a
    draft, scheduled or live; an ended or cancelled show keeps what it was."""
    if show.status not in EDITABLE:
        raise Conflict(
            N_("This show %(is)s and can no longer be edited."),
            params={"is": _IS[show.status]},
            code="not_editable",
        )
    starts_at = changes.get("starts_at")
    if isinstance(starts_at, datetime) and starts_at.tzinfo is None:
        raise InvalidInput("Give the start time with its time zone.", field="starts_at")
    for name, value in changes.items():
        if value is not None:
            setattr(show, name, value)
    assert show.id is not None
    if host_ids is not None:
        _check_hosts(db, show.brand_id, host_ids)
        for host in db.exec(select(ShowHost).where(ShowHost.show_id == show.id)).all():
            db.delete(host)
        db.flush()
        for host_id in host_ids:
            db.add(ShowHost(show_id=show.id, associate_id=host_id))
    if product_ids is not None:
        _check_products(db, show.brand_id, product_ids)
        for item in db.exec(select(ShowProduct).where(ShowProduct.show_id == show.id)).all():
            db.delete(item)
        db.flush()
        for position, product_id in enumerate(product_ids):
            db.add(ShowProduct(show_id=show.id, product_id=product_id, position=position))
    db.add(show)
    db.commit()
    return show


# Each action by name, for the web layer's one view per kind of button.
ACTIONS: dict[ShowAction, Callable[..., object]] = {
    A.SCHEDULE: do_schedule_show,
    A.CANCEL: do_cancel_show,
    A.START: do_start_show,
    A.END: do_end_show,
    A.PUBLISH_REPLAY: do_publish_replay,
    A.HIDE_REPLAY: do_hide_replay,
    A.TRIM_REPLAY: do_trim_replay,
}
