"""Figures computed from the stored events: per show, per associate, per brand and period.

Every definition here is written, with its formula, in docs/analytics.md; the
names of the fields are the names used there. Nothing is read from in-memory
counters, so the figures are the same whichever web node computes them, and
after a restart.

Time-based figures come from viewings: one viewing per ``view_id`` (a socket in
the room), from its ``join`` to its ``leave``, or to its last ``heartbeat`` when
no leave was stored (its node died). A viewer's viewings are merged first, so a
shopper with two tabs open is one viewer, watching once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import Session, col, select

from sessions.analytics.coverage import DayCoverage, Questions, coverage_by_day, questions
from sessions.analytics.events import (
    ADD_TO_BAG,
    HANDOFF,
    HEARTS,
    JOIN,
    LEAVE,
    LIVE,
    PIN,
    PRODUCT_CLICK,
    REPLAY,
    VIEWING_KINDS,
)
from sessions.analytics.orders import ATTRIBUTED, INFLUENCED
from sessions.analytics.participation import Participation, participation, voters_and_askers
from sessions.clock import as_utc, utcnow
from sessions.models import (
    AnalyticsEvent,
    AssociateProfile,
    ChatMessage,
    LiveSession,
    MessageKind,
    Order,
    Product,
    QueueRequest,
    Rating,
    SessionKind,
    Show,
    ShowHost,
    Thread,
    ThreadMessage,
    ThreadSide,
)

Span = tuple[datetime, datetime]


# --- intervals -----------------------------------------------------------------------


def merge(spans: Iterable[Span]) -> list[Span]:
    """Union of half-open spans [a, b), as disjoint spans in order."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def clip(spans: Iterable[Span], low: datetime, high: datetime) -> list[Span]:
    return [(max(a, low), min(b, high)) for a, b in spans if min(b, high) > max(a, low)]


def seconds(spans: Iterable[Span]) -> float:
    return sum((b - a).total_seconds() for a, b in spans)


def peak(spans_by_viewer: Iterable[list[Span]]) -> int:
    """Most viewers present at one instant: a leave at t is counted before a join at t."""
    edges = sorted(
        (t, delta) for spans in spans_by_viewer for a, b in spans for t, delta in ((a, 1), (b, -1))
    )
    best = now = 0
    for _, delta in edges:
        now += delta
        best = max(best, now)
    return best


def ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


# --- viewings ----------------------------------------------------------------------


@dataclass
class Viewer:
    """One person's merged viewings of a session, live and replay apart."""

    key: str
    shopper_id: int | None
    spans: dict[str, list[Span]] = field(default_factory=lambda: {LIVE: [], REPLAY: []})
    # Modes joined in, even when a viewing lasted no time (joined and left at once).
    modes: set[str] = field(default_factory=set)


def _viewings(db: Session, live: LiveSession) -> list[tuple[Any, ...]]:
    """One row per viewing, reduced by the database (a show's 100,000 events are a few
    thousand viewings): (view_id, shopper, viewer key, mode of its join, start, end).

    The end is the viewing's first leave or, with none (its node died), its last event.
    """
    event = AnalyticsEvent
    is_leave = col(event.kind) == LEAVE
    rows = db.exec(
        select(  # type: ignore[call-overload]  # sqlmodel's overloads stop at four columns
            col(event.view_id),
            func.max(event.shopper_id),
            func.max(event.viewer_key),
            func.coalesce(
                func.max(case((col(event.kind) == JOIN, event.mode))), func.min(event.mode)
            ),
            func.min(event.created_at),
            func.coalesce(func.min(case((is_leave, event.created_at))), func.max(event.created_at)),
        )
        .where(event.live_session_id == live.id, col(event.kind).in_(VIEWING_KINDS))
        .group_by(col(event.view_id))
    ).all()
    return list(rows)


def viewer_identity(viewer_key: str | None, shopper_id: int | None, view_id: str | None) -> str:
    """Who a viewing was: one browser is one viewer, whether or not (or in which of its
    tabs) the guest became a shopper; a shopper without a browser key; else the viewing."""
    if viewer_key is not None:
        return f"viewer:{viewer_key}"
    if shopper_id is not None:
        return f"shopper:{shopper_id}"
    return f"view:{view_id}"


def _viewers(db: Session, live: LiveSession) -> dict[str, Viewer]:
    viewers: dict[str, Viewer] = {}
    for view_id, shopper_id, viewer_key, mode, start, end in _viewings(db, live):
        key = viewer_identity(viewer_key, shopper_id, view_id)
        viewer = viewers.setdefault(key, Viewer(key, shopper_id))
        if viewer.shopper_id is None:
            viewer.shopper_id = shopper_id
        mode = mode or LIVE
        # Aggregates skip the column type on some drivers: keep every time aware UTC.
        viewer.spans[mode].append((as_utc(start), as_utc(end)))
        viewer.modes.add(mode)
    for viewer in viewers.values():
        for mode in (LIVE, REPLAY):
            viewer.spans[mode] = merge(viewer.spans[mode])
    return viewers


def _live_window(live: LiveSession) -> Span | None:
    if live.started_at is None:
        return None
    return live.started_at, live.ended_at or max(utcnow(), live.started_at)


# --- per show ---------------------------------------------------------------------


@dataclass
class ProductFigures:
    product_id: int
    name: str
    clicks: int = 0
    adds: int = 0
    add_value_minor: int = 0


@dataclass
class ModeFigures:
    unique_viewers: int = 0
    watch_seconds_total: float = 0.0
    watch_seconds_average: float = 0.0
    add_to_bag_count: int = 0
    add_to_bag_value_minor: int = 0
    orders: int = 0
    revenue_minor: int = 0
    buyers: int = 0
    conversion: float = 0.0


@dataclass
class Pin:
    at: datetime
    minute: int
    product_id: int
    name: str


@dataclass
class Funnel:
    viewers: int
    engaged: int
    added: int
    ordered: int


@dataclass
class ShowSummary:
    show_id: int | None
    live_session_id: int
    title: str
    currency: str
    started_at: datetime | None
    ended_at: datetime | None
    length_seconds: float
    unique_viewers: int
    unique_viewers_live: int
    unique_viewers_replay: int
    peak_concurrent: int
    average_concurrent: float
    viewers_by_minute: list[int]
    watch_seconds_total: float
    watch_seconds_average: float
    messages: int
    messages_by_shoppers: int
    chatters: int
    hearts: int
    product_clicks: int
    add_to_bag_count: int
    add_to_bag_value_minor: int
    handoffs: int
    handoff_value_minor: int
    orders: int
    revenue_minor: int
    refunded_minor: int
    buyers: int
    conversion: float
    average_order_value_minor: int
    influenced_orders: int
    influenced_revenue_minor: int
    live: ModeFigures
    replay: ModeFigures
    funnel: Funnel
    products: list[ProductFigures]
    pins: list[Pin]
    # Polls and questions (sessions/analytics/participation.py).
    participation: Participation = field(default_factory=Participation)


def _length(live: LiveSession, show: Show | None) -> float:
    window = _live_window(live)
    if window is not None:
        return (window[1] - window[0]).total_seconds()
    return float(show.duration_minutes * 60) if show is not None else 0.0


def _clip_live(viewers: dict[str, Viewer], live: LiveSession) -> None:
    """Live viewing counts from the start to the end of the show, not in the waiting room."""
    window = _live_window(live)
    for viewer in viewers.values():
        viewer.spans[LIVE] = clip(viewer.spans[LIVE], *window) if window else []


def _watch(viewers: dict[str, Viewer], length: float) -> dict[str, float]:
    """Seconds watched per viewer and mode (live already clipped); replay capped at length."""
    out: dict[str, float] = {}
    for viewer in viewers.values():
        out[f"{LIVE}:{viewer.key}"] = seconds(viewer.spans[LIVE])
        out[f"{REPLAY}:{viewer.key}"] = min(seconds(viewer.spans[REPLAY]), length)
    return out


def _by_minute(viewers: dict[str, Viewer], live: LiveSession) -> list[int]:
    """Viewers present at some moment of each minute [start + m, start + m + 1) of the show."""
    window = _live_window(live)
    if window is None:
        return []
    start, end = window
    minutes = math.ceil((end - start).total_seconds() / 60)
    counts = [0] * minutes
    for viewer in viewers.values():
        seen: set[int] = set()
        for a, b in viewer.spans[LIVE]:
            first = int((a - start).total_seconds() // 60)
            last = math.ceil((b - start).total_seconds() / 60) - 1
            seen.update(range(first, min(last, minutes - 1) + 1))
        for minute in seen:
            counts[minute] += 1
    return counts


def _sum_count(db: Session, live: LiveSession, kind: str) -> tuple[int, int]:
    count, total = db.exec(
        select(func.count(), func.coalesce(func.sum(AnalyticsEvent.value_minor), 0)).where(
            AnalyticsEvent.live_session_id == live.id, AnalyticsEvent.kind == kind
        )
    ).one()
    return int(count), int(total)


def _products(db: Session, live: LiveSession) -> list[ProductFigures]:
    rows = db.exec(
        select(
            AnalyticsEvent.product_id,
            AnalyticsEvent.kind,
            func.count(),
            func.coalesce(func.sum(AnalyticsEvent.value_minor), 0),
        )
        .where(
            AnalyticsEvent.live_session_id == live.id,
            col(AnalyticsEvent.kind).in_((PRODUCT_CLICK, ADD_TO_BAG)),
            col(AnalyticsEvent.product_id).is_not(None),
        )
        .group_by(col(AnalyticsEvent.product_id), col(AnalyticsEvent.kind))
    ).all()
    figures: dict[int, ProductFigures] = {}
    for product_id, kind, count, value in rows:
        assert product_id is not None  # filtered above
        if product_id not in figures:
            product = db.get(Product, product_id)
            figures[product_id] = ProductFigures(product_id, product.name if product else "?")
        if kind == PRODUCT_CLICK:
            figures[product_id].clicks = int(count)
        else:
            figures[product_id].adds, figures[product_id].add_value_minor = int(count), int(value)
    return sorted(figures.values(), key=lambda p: (-p.clicks, -p.adds, p.product_id))


def _pins(db: Session, live: LiveSession) -> list[Pin]:
    window = _live_window(live)
    rows = db.exec(
        select(AnalyticsEvent.created_at, AnalyticsEvent.product_id)
        .where(AnalyticsEvent.live_session_id == live.id, AnalyticsEvent.kind == PIN)
        .order_by(col(AnalyticsEvent.created_at))
    ).all()
    out = []
    for at, product_id in rows:
        product = db.get(Product, product_id) if product_id else None
        minute = int((at - window[0]).total_seconds() // 60) if window else 0
        out.append(Pin(at, max(minute, 0), product_id or 0, product.name if product else "?"))
    return out


def _shoppers_with(db: Session, live: LiveSession, kind: str) -> set[int]:
    rows = db.exec(
        select(AnalyticsEvent.shopper_id)
        .where(
            AnalyticsEvent.live_session_id == live.id,
            AnalyticsEvent.kind == kind,
            col(AnalyticsEvent.shopper_id).is_not(None),
        )
        .distinct()
    ).all()
    return {int(s) for s in rows if s is not None}


@dataclass
class _Messages:
    total: int
    by_shoppers: int
    chatters: set[int]


def _messages(db: Session, live: LiveSession) -> _Messages:
    rows = db.exec(
        select(ChatMessage.user_id, ChatMessage.shopper_id).where(
            ChatMessage.live_session_id == live.id,
            ChatMessage.kind == MessageKind.TEXT,
            col(ChatMessage.deleted_at).is_(None),
        )
    ).all()
    by_shoppers = [shopper for user, shopper in rows if user is None and shopper is not None]
    return _Messages(len(rows), len(by_shoppers), set(by_shoppers))


@dataclass
class _Sales:
    orders: int = 0
    revenue_minor: int = 0
    refunded_minor: int = 0
    buyers: set[int] = field(default_factory=set)


def _sales(orders: Iterable[Order]) -> _Sales:
    """Net revenue; an order refunded in full is no longer an order, nor its shopper a buyer."""
    out = _Sales()
    for order in orders:
        net = order.total_minor - order.refunded_minor
        out.revenue_minor += net
        out.refunded_minor += order.refunded_minor
        if net > 0:
            out.orders += 1
            out.buyers.add(order.shopper_id)
    return out


def _mode_figures(
    mode: str,
    viewers: dict[str, Viewer],
    watch: dict[str, float],
    adds: tuple[int, int],
    sales: _Sales,
) -> ModeFigures:
    watched = [v for v in viewers.values() if _joined_in(v, mode)]
    total = sum(watch[f"{mode}:{v.key}"] for v in watched)
    return ModeFigures(
        unique_viewers=len(watched),
        watch_seconds_total=total,
        watch_seconds_average=ratio(total, len(watched)),
        add_to_bag_count=adds[0],
        add_to_bag_value_minor=adds[1],
        orders=sales.orders,
        revenue_minor=sales.revenue_minor,
        buyers=len(sales.buyers),
        conversion=ratio(len(sales.buyers), len(watched)),
    )


def _joined_in(viewer: Viewer, mode: str) -> bool:
    return mode in viewer.modes


def _adds_by_mode(db: Session, live: LiveSession) -> dict[str, tuple[int, int]]:
    rows = db.exec(
        select(
            AnalyticsEvent.mode,
            func.count(),
            func.coalesce(func.sum(AnalyticsEvent.value_minor), 0),
        )
        .where(AnalyticsEvent.live_session_id == live.id, AnalyticsEvent.kind == ADD_TO_BAG)
        .group_by(col(AnalyticsEvent.mode))
    ).all()
    out = {LIVE: (0, 0), REPLAY: (0, 0)}
    for mode, count, value in rows:
        out[mode or LIVE] = (int(count), int(value))
    return out


def show_summary(db: Session, live: LiveSession) -> ShowSummary:
    """Every figure of one show (or consultation) session; see docs/analytics.md."""
    assert live.id is not None
    show = db.get(Show, live.show_id) if live.show_id else None
    brand_currency = _currency(db, live)
    length = _length(live, show)
    viewers = _viewers(db, live)
    _clip_live(viewers, live)
    watch = _watch(viewers, length)
    live_seconds = sum(watch[f"{LIVE}:{v.key}"] for v in viewers.values())
    messages = _messages(db, live)
    adds = _sum_count(db, live, ADD_TO_BAG)
    handoffs = _sum_count(db, live, HANDOFF)
    orders = list(db.exec(select(Order).where(Order.live_session_id == live.id)).all())
    attributed = [o for o in orders if o.attribution == ATTRIBUTED]
    influenced = _sales(o for o in orders if o.attribution == INFLUENCED)
    sales = _sales(attributed)
    by_mode = _adds_by_mode(db, live)
    engaged = (
        messages.chatters
        | _shoppers_with(db, live, PRODUCT_CLICK)
        | _shoppers_with(db, live, ADD_TO_BAG)
        | voters_and_askers(db, live)
    )
    products = _products(db, live)
    window = _live_window(live)
    return ShowSummary(
        show_id=live.show_id,
        live_session_id=live.id,
        title=show.title if show else f"Consultation {live.id}",
        currency=brand_currency,
        started_at=live.started_at,
        ended_at=live.ended_at,
        length_seconds=length,
        unique_viewers=len(viewers),
        unique_viewers_live=sum(1 for v in viewers.values() if _joined_in(v, LIVE)),
        unique_viewers_replay=sum(1 for v in viewers.values() if _joined_in(v, REPLAY)),
        peak_concurrent=peak(v.spans[LIVE] for v in viewers.values()),
        average_concurrent=ratio(live_seconds, (window[1] - window[0]).total_seconds())
        if window
        else 0.0,
        viewers_by_minute=_by_minute(viewers, live),
        watch_seconds_total=sum(watch.values()),
        watch_seconds_average=ratio(sum(watch.values()), len(viewers)),
        messages=messages.total,
        messages_by_shoppers=messages.by_shoppers,
        chatters=len(messages.chatters),
        hearts=_sum_count(db, live, HEARTS)[1],
        product_clicks=sum(p.clicks for p in products),
        add_to_bag_count=adds[0],
        add_to_bag_value_minor=adds[1],
        handoffs=handoffs[0],
        handoff_value_minor=handoffs[1],
        orders=sales.orders,
        revenue_minor=sales.revenue_minor,
        refunded_minor=sales.refunded_minor,
        buyers=len(sales.buyers),
        conversion=ratio(len(sales.buyers), len(viewers)),
        average_order_value_minor=round(ratio(sales.revenue_minor, sales.orders)),
        influenced_orders=influenced.orders,
        influenced_revenue_minor=influenced.revenue_minor,
        live=_mode_figures(
            LIVE, viewers, watch, by_mode[LIVE], _sales(o for o in attributed if o.mode != REPLAY)
        ),
        replay=_mode_figures(
            REPLAY,
            viewers,
            watch,
            by_mode[REPLAY],
            _sales(o for o in attributed if o.mode == REPLAY),
        ),
        funnel=Funnel(
            viewers=len(viewers),
            engaged=len(engaged),
            added=len(_shoppers_with(db, live, ADD_TO_BAG)),
            ordered=len(sales.buyers),
        ),
        products=products,
        pins=_pins(db, live),
        participation=participation(db, live, len(viewers)),
    )


def _currency(db: Session, live: LiveSession) -> str:
    from sessions.models import Brand

    brand = db.get(Brand, live.brand_id)
    return brand.currency if brand else "EUR"


# --- per associate ------------------------------------------------------------------


@dataclass
class AssociateSummary:
    associate_id: int
    name: str
    consultations: int
    chats: int  # chat threads they wrote in
    shows_hosted: int
    # Chat threads: the shopper's message (the first of a run) to the associate's next
    # message; automatic answers and system notes are nobody's response.
    first_response_seconds_average: float | None
    response_seconds_average: float | None
    rating_average: float | None
    ratings: int
    bag_value_minor: int
    attributed_revenue_minor: int
    responses: int = 0  # waits they ended in chat threads (the average's count)
    # Video and talk-now: the request asked to accepted; in consultations, a shopper's
    # message to the staff's next one.
    talk_now_answer_seconds_average: float | None = None
    consultation_reply_seconds_average: float | None = None


def _in(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    """Half-open [start, end): a moment at `end` belongs to the next period."""
    return and_(column >= start, column < end)


def _hosted_sessions(
    db: Session, associate: AssociateProfile, start: datetime, end: datetime
) -> tuple[list[LiveSession], list[LiveSession]]:
    """(consultations, shows) the associate held that started in [start, end)."""
    consultations = db.exec(
        select(LiveSession).where(
            LiveSession.associate_id == associate.id,
            LiveSession.kind == SessionKind.CONSULTATION,
            _in(LiveSession.started_at, start, end),
        )
    ).all()
    shows = db.exec(
        select(LiveSession)
        .join(ShowHost, col(ShowHost.show_id) == col(LiveSession.show_id))
        .where(ShowHost.associate_id == associate.id, _in(LiveSession.started_at, start, end))
    ).all()
    return list(consultations), list(shows)


def _reply_gaps(db: Session, consultations: list[LiveSession]) -> list[float]:
    """Seconds from a shopper's message (the first of a run) to the staff's next message."""
    gaps: list[float] = []
    for live in consultations:
        rows = db.exec(
            select(ChatMessage.user_id, ChatMessage.created_at)
            .where(ChatMessage.live_session_id == live.id, ChatMessage.kind == MessageKind.TEXT)
            .order_by(col(ChatMessage.id))
        ).all()
        waiting_since: datetime | None = None
        for user_id, at in rows:
            if user_id is None and waiting_since is None:
                waiting_since = at
            elif user_id is not None and waiting_since is not None:
                gaps.append((at - waiting_since).total_seconds())
                waiting_since = None
    return gaps


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class Wait:
    """A shopper waiting in a chat thread, and the staff message that ended the wait."""

    thread_id: int
    asked_at: datetime
    answered_at: datetime

    @property
    def seconds(self) -> float:
        return (self.answered_at - self.asked_at).total_seconds()


@dataclass
class ThreadFigures:
    """The brand's chat threads over a period, per staff user (the author of the answers)."""

    waits: dict[int, list[Wait]] = field(default_factory=dict)  # ended in the period, in order
    chats: dict[int, dict[int, datetime]] = field(default_factory=dict)  # thread -> first write

    def of(self, user_id: int) -> tuple[list[Wait], dict[int, datetime]]:
        return self.waits.get(user_id, []), self.chats.get(user_id, {})


def thread_figures(db: Session, brand_id: int, start: datetime, end: datetime) -> ThreadFigures:
    """Walk each chat thread written in during [start, end), in the order of its messages
    (earlier ones too: a wait may begin before the period). A shopper's message opens a
    wait when none is open; the next staff message ends it, credited to its author. An
    automatic answer and a system note neither open nor end one: the shopper still waits
    for a person."""
    written = (
        select(ThreadMessage.thread_id)
        .join(Thread, col(Thread.id) == col(ThreadMessage.thread_id))
        .where(Thread.brand_id == brand_id, _in(ThreadMessage.created_at, start, end))
        .distinct()
    )
    rows = db.exec(
        select(
            ThreadMessage.thread_id,
            ThreadMessage.side,
            ThreadMessage.user_id,
            ThreadMessage.created_at,
        )
        .where(col(ThreadMessage.thread_id).in_(written), ThreadMessage.created_at < end)
        .order_by(col(ThreadMessage.thread_id), col(ThreadMessage.id))
    ).all()
    out = ThreadFigures()
    asked: dict[int, datetime] = {}  # thread -> when its open wait began
    for thread_id, side, user_id, at in rows:
        at = as_utc(at)
        if side == ThreadSide.SHOPPER:
            asked.setdefault(thread_id, at)
        elif side == ThreadSide.STAFF:
            since = asked.pop(thread_id, None)
            if user_id is None or at < start:
                continue
            out.chats.setdefault(user_id, {}).setdefault(thread_id, at)
            if since is not None:
                out.waits.setdefault(user_id, []).append(Wait(thread_id, since, at))
    return out


def first_responses(waits: list[Wait]) -> list[Wait]:
    """The first wait an associate ended in each chat of theirs."""
    first: dict[int, Wait] = {}
    for wait in waits:
        first.setdefault(wait.thread_id, wait)
    return list(first.values())


def associate_summary(
    db: Session,
    associate: AssociateProfile,
    start: datetime,
    end: datetime,
    *,
    threads: ThreadFigures | None = None,
) -> AssociateSummary:
    assert associate.id is not None
    threads = threads or thread_figures(db, associate.brand_id, start, end)
    waits, chats = threads.of(associate.user_id)
    consultations, shows = _hosted_sessions(db, associate, start, end)
    session_ids = [s.id for s in consultations + shows]
    requests = db.exec(
        select(QueueRequest.created_at, QueueRequest.first_response_at).where(
            QueueRequest.associate_id == associate.id,
            col(QueueRequest.first_response_at).is_not(None),
            _in(QueueRequest.created_at, start, end),
        )
    ).all()
    answer_times = [(answered - asked).total_seconds() for asked, answered in requests if answered]
    scores = db.exec(
        select(Rating.score).where(
            Rating.associate_id == associate.id, _in(Rating.created_at, start, end)
        )
    ).all()
    bag_value = db.exec(
        select(func.coalesce(func.sum(AnalyticsEvent.value_minor), 0)).where(
            col(AnalyticsEvent.live_session_id).in_(session_ids),
            AnalyticsEvent.kind == ADD_TO_BAG,
        )
    ).one()
    orders = db.exec(
        select(Order).where(
            col(Order.live_session_id).in_(session_ids), Order.attribution == ATTRIBUTED
        )
    ).all()
    return AssociateSummary(
        associate_id=associate.id,
        name=associate.display_name,
        consultations=len(consultations),
        chats=len(chats),
        shows_hosted=len(shows),
        first_response_seconds_average=_mean([w.seconds for w in first_responses(waits)]),
        response_seconds_average=_mean([w.seconds for w in waits]),
        responses=len(waits),
        rating_average=_mean([float(s) for s in scores]),
        ratings=len(scores),
        bag_value_minor=int(bag_value),
        attributed_revenue_minor=_sales(orders).revenue_minor,
        talk_now_answer_seconds_average=_mean(answer_times),
        consultation_reply_seconds_average=_mean(_reply_gaps(db, consultations)),
    )


@dataclass
class AssociateDay:
    """One UTC day of an associate's chat threads (the figures page's chart)."""

    day: str
    chats: int  # chats they first wrote in that day
    responses: int
    first_response_seconds_average: float | None
    response_seconds_average: float | None


def associate_days(
    db: Session, associate: AssociateProfile, start: datetime, end: datetime
) -> list[AssociateDay]:
    """Each day of [start, end): chats begun, and response times of the waits ended."""
    waits, chats = thread_figures(db, associate.brand_id, start, end).of(associate.user_id)
    firsts = first_responses(waits)
    key = lambda at: at.date().isoformat()  # noqa: E731
    out = []
    day = start
    while day < end:
        name = key(day)
        ended = [w for w in waits if key(w.answered_at) == name]
        out.append(
            AssociateDay(
                day=name,
                chats=sum(1 for at in chats.values() if key(at) == name),
                responses=len(ended),
                first_response_seconds_average=_mean(
                    [w.seconds for w in firsts if key(w.answered_at) == name]
                ),
                response_seconds_average=_mean([w.seconds for w in ended]),
            )
        )
        day += timedelta(days=1)
    return out


def ranking_key(row: AssociateSummary) -> tuple[Any, ...]:
    """The team ranking: attributed revenue, then bag value, then rating, then the
    conversations held (consultations and chats), then the name."""
    return (
        -row.attributed_revenue_minor,
        -row.bag_value_minor,
        -(row.rating_average or 0.0),
        -(row.consultations + row.chats),
        row.name,
    )


def team(db: Session, brand_id: int, start: datetime, end: datetime) -> list[AssociateSummary]:
    """Every associate of the brand, in the order of the team ranking (``ranking_key``)."""
    associates = db.exec(
        select(AssociateProfile)
        .where(AssociateProfile.brand_id == brand_id)
        .order_by(col(AssociateProfile.id))
    ).all()
    threads = thread_figures(db, brand_id, start, end)
    rows = [associate_summary(db, a, start, end, threads=threads) for a in associates]
    return sorted(rows, key=ranking_key)


def all_time(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Every moment up to the end of today (UTC): a record, not a period."""
    return datetime(2000, 1, 1, tzinfo=UTC), default_period(now, days=1)[1]


# --- per brand, over a period --------------------------------------------------------


@dataclass
class ShowRow:
    show_id: int | None
    live_session_id: int
    title: str
    started_at: datetime | None
    unique_viewers: int
    peak_concurrent: int
    watch_seconds_total: float
    add_to_bag_value_minor: int
    orders: int
    revenue_minor: int
    influenced_revenue_minor: int
    conversion: float


@dataclass
class PeriodFigures:
    start: datetime
    end: datetime
    shows: int
    unique_viewers: int
    watch_seconds_total: float
    messages: int
    hearts: int
    add_to_bag_count: int
    add_to_bag_value_minor: int
    handoffs: int
    handoff_value_minor: int
    orders: int
    revenue_minor: int
    refunded_minor: int
    attributed_revenue_minor: int
    influenced_revenue_minor: int
    buyers: int
    conversion: float
    average_order_value_minor: int


@dataclass
class BrandSummary:
    brand_id: int
    currency: str
    attribution_window_days: int
    current: PeriodFigures
    previous: PeriodFigures
    shows: list[ShowRow]
    team: list[AssociateSummary]
    coverage: list[DayCoverage]
    coverage_hours_average: float
    questions: Questions
    previous_questions: Questions


def _show_sessions(db: Session, brand_id: int, start: datetime, end: datetime) -> list:
    return list(
        db.exec(
            select(LiveSession)
            .where(
                LiveSession.brand_id == brand_id,
                LiveSession.kind == SessionKind.SHOW,
                _in(LiveSession.started_at, start, end),
            )
            .order_by(col(LiveSession.started_at))
        ).all()
    )


def _show_row(summary: ShowSummary) -> ShowRow:
    return ShowRow(
        show_id=summary.show_id,
        live_session_id=summary.live_session_id,
        title=summary.title,
        started_at=summary.started_at,
        unique_viewers=summary.unique_viewers,
        peak_concurrent=summary.peak_concurrent,
        watch_seconds_total=summary.watch_seconds_total,
        add_to_bag_value_minor=summary.add_to_bag_value_minor,
        orders=summary.orders,
        revenue_minor=summary.revenue_minor,
        influenced_revenue_minor=summary.influenced_revenue_minor,
        conversion=summary.conversion,
    )


def _events_in(db: Session, brand_id: int, kind: str, start: datetime, end: datetime) -> tuple:
    return db.exec(
        select(func.count(), func.coalesce(func.sum(AnalyticsEvent.value_minor), 0)).where(
            AnalyticsEvent.brand_id == brand_id,
            AnalyticsEvent.kind == kind,
            _in(AnalyticsEvent.created_at, start, end),
        )
    ).one()


def period_figures(
    db: Session, brand_id: int, start: datetime, end: datetime, rows: list[ShowRow]
) -> PeriodFigures:
    """The brand's figures for events in [start, end); watch time of the shows in `rows`."""
    viewers = db.exec(
        select(AnalyticsEvent.viewer_key, AnalyticsEvent.shopper_id, AnalyticsEvent.view_id).where(
            AnalyticsEvent.brand_id == brand_id,
            AnalyticsEvent.kind == VIEWING_KINDS[0],
            _in(AnalyticsEvent.created_at, start, end),
        )
    ).all()
    unique = {viewer_identity(k, s, v) for k, s, v in viewers}
    messages = db.exec(
        select(func.count())
        .select_from(ChatMessage)
        .join(LiveSession, col(LiveSession.id) == col(ChatMessage.live_session_id))
        .where(
            LiveSession.brand_id == brand_id,
            ChatMessage.kind == MessageKind.TEXT,
            col(ChatMessage.deleted_at).is_(None),
            _in(ChatMessage.created_at, start, end),
        )
    ).one()
    orders = db.exec(
        select(Order).where(Order.brand_id == brand_id, _in(Order.created_at, start, end))
    ).all()
    sales = _sales(orders)
    attributed = _sales(o for o in orders if o.attribution == ATTRIBUTED)
    influenced = _sales(o for o in orders if o.attribution == INFLUENCED)
    adds = _events_in(db, brand_id, ADD_TO_BAG, start, end)
    handoffs = _events_in(db, brand_id, HANDOFF, start, end)
    return PeriodFigures(
        start=start,
        end=end,
        shows=len(rows),
        unique_viewers=len(unique),
        watch_seconds_total=sum(r.watch_seconds_total for r in rows),
        messages=int(messages),
        hearts=int(_events_in(db, brand_id, HEARTS, start, end)[1]),
        add_to_bag_count=int(adds[0]),
        add_to_bag_value_minor=int(adds[1]),
        handoffs=int(handoffs[0]),
        handoff_value_minor=int(handoffs[1]),
        orders=sales.orders,
        revenue_minor=sales.revenue_minor,
        refunded_minor=sales.refunded_minor,
        attributed_revenue_minor=attributed.revenue_minor,
        influenced_revenue_minor=influenced.revenue_minor,
        buyers=len(attributed.buyers),
        conversion=ratio(len(attributed.buyers), len(unique)),
        average_order_value_minor=round(ratio(sales.revenue_minor, sales.orders)),
    )


def brand_summary(db: Session, brand_id: int, start: datetime, end: datetime) -> BrandSummary:
    """[start, end) and the period of the same length just before it, side by side."""
    from sessions.models import Brand

    brand = db.get(Brand, brand_id)
    assert brand is not None
    before = start - (end - start)
    days = coverage_by_day(db, brand_id, start, end)
    rows = [_show_row(show_summary(db, s)) for s in _show_sessions(db, brand_id, start, end)]
    previous_rows = [
        _show_row(show_summary(db, s)) for s in _show_sessions(db, brand_id, before, start)
    ]
    return BrandSummary(
        brand_id=brand_id,
        currency=brand.currency,
        attribution_window_days=brand.attribution_window_days,
        current=period_figures(db, brand_id, start, end, rows),
        previous=period_figures(db, brand_id, before, start, previous_rows),
        shows=rows,
        team=team(db, brand_id, start, end),
        coverage=days,
        coverage_hours_average=ratio(sum(d.covered_hours for d in days), len(days)),
        questions=questions(db, brand_id, start, end),
        previous_questions=questions(db, brand_id, before, start),
    )


def default_period(now: datetime | None = None, days: int = 30) -> tuple[datetime, datetime]:
    """The last `days` whole UTC days, today included."""
    today = (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    end = today + timedelta(days=1)
    return end - timedelta(days=days), end
