"""Every kind of domain event, declared once: its payload and who it is for.

An action that publishes a kind not declared here, to an audience its kind does
not allow, or with a payload that does not match, is refused by
``sessions.events.publish``. The web sink (``web/sockets/delivery.py``) has one
delivery per kind, and ``tests/rooms/test_event_contract.py`` fails when a kind
is published that nothing delivers. ``docs/events.md`` lists this table; a test
keeps it in step.
"""

from __future__ import annotations

import typing
from typing import Any, NotRequired

from pydantic import ConfigDict
from typing_extensions import TypedDict

from sessions.events import Audience, EventKind

A = Audience
KINDS: dict[str, EventKind] = {}


class Payload(TypedDict):
    """Base of every payload: a field that is not declared is refused too."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]


def declare(name: str, payload: type, *audiences: Audience, summary: str) -> EventKind:
    assert name not in KINDS, f"event kind {name} declared twice"
    kind = EventKind(name, payload, frozenset(audiences), summary)
    KINDS[name] = kind
    return kind


# --- live rooms: chat, moderation, products -------------------------------------------


class MessagePayload(Payload):
    message: dict[str, Any]  # the stored chat message, as the history returns it


class MessageDeletedPayload(Payload):
    id: int


class PinsPayload(Payload):
    pinned: list[dict[str, Any]]  # product cards, in pin order


class OfferPayload(Payload):
    offer: dict[str, Any] | None  # None: the offer is over
    offer_id: int
    ends_at: NotRequired[str]  # ISO time, when an offer starts


class StockPayload(Payload):
    product_id: int
    variant_id: int
    stock: int
    product_stock: NotRequired[int]


class SanctionPayload(Payload):
    sanction: str  # mute, ban or unmute
    until: str | None
    shopper_id: int


class EmptyPayload(Payload):
    pass  # nothing to say: the sink looks it up


class SessionStatePayload(Payload):
    status: str  # live or ended


declare("message", MessagePayload, A.ROOM, summary="a chat message was stored")
declare("message_deleted", MessageDeletedPayload, A.ROOM, summary="a host deleted a message")
declare("pins", PinsPayload, A.ROOM, summary="the pinned products changed")
declare("offer", OfferPayload, A.ROOM, summary="a flash offer started, changed or ended")
declare(
    "stock",
    StockPayload,
    A.ROOM,
    A.BRAND_STAFF,
    summary="a variant's stock changed (in a room, or in the admin: the brand's staff)",
)
declare("sanction", SanctionPayload, A.SHOPPER, summary="the shopper was muted, banned or unmuted")
declare(
    "participants_changed",
    EmptyPayload,
    A.HOSTS,
    summary="who is in the room changed (the hosts' list is rebuilt)",
)
declare(
    "session_state",
    SessionStatePayload,
    A.ROOM,
    summary="a consultation's room went live or ended (a show's: show_state)",
)


class RelayMovedPayload(Payload):
    relay_url: str  # the relay the room is on now, as browsers reach it


declare(
    "relay_moved",
    RelayMovedPayload,
    A.ROOM,
    summary="the room's relay stopped and its rooms moved: publishers and viewers take a new grant",
)


# --- shows: the lifecycle (sessions/shows/lifecycle.py) ----------------------------------


class ShowStatePayload(Payload):
    show_id: int
    # draft, scheduled, live, ended, replay_published, replay_hidden or cancelled
    status: str


declare(
    "show_state",
    ShowStatePayload,
    A.ROOM,
    summary="a show moved: scheduled, started, ended, cancelled, its replay published or hidden",
)


# --- bags ------------------------------------------------------------------------------


class BagPayload(Payload):
    bag: dict[str, Any]


class BagEventPayload(Payload):
    name: str
    size: str | None
    colour: str | None
    quantity: int


declare("bag", BagPayload, A.SHOPPER, A.HOSTS, summary="the shopper's bag changed")
declare("bag_event", BagEventPayload, A.HOSTS, summary="a viewer added something to their bag")


# --- consultations: talk now, appointments, ratings -----------------------------------


class QueueOfferPayload(Payload):
    request_id: int
    mode: str  # chat or video


class QueueRequestPayload(Payload):
    request_id: int
    reason: NotRequired[str]  # withdrawn: "passed" (timed out, declined) or "left" (the shopper)


class QueueAcceptedPayload(Payload):
    request_id: int
    live_session_id: int


class TransferredPayload(Payload):
    live_session_id: int
    from_associate_id: int | None
    to_associate_id: int
    name: str


class MessageLeftPayload(Payload):
    message_id: int


class AppointmentBookedPayload(Payload):
    appointment_id: int
    starts_at: str


class AppointmentCancelledPayload(Payload):
    appointment_id: int
    by: str  # shopper or associate


class ShopperWaitingPayload(Payload):
    live_session_id: int
    at: str
    associate_id: int | None


class RatedPayload(Payload):
    score: int


declare("queue_offer", QueueOfferPayload, A.ASSOCIATE, summary="a talk-now request is offered")
declare(
    "queue_offer_withdrawn",
    QueueRequestPayload,
    A.ASSOCIATE,
    summary="an offer timed out or was declined (it passed on), or the shopper left the queue",
)
declare(
    "queue_accepted",
    QueueAcceptedPayload,
    A.SHOPPER,
    summary="an associate took the shopper's request: the room is ready",
)
declare(
    "consultation_transferred",
    TransferredPayload,
    A.ROOM,
    summary="a consultation was handed to a colleague (also told to that colleague)",
)
declare("message_left", MessageLeftPayload, A.BRAND_STAFF, summary="a shopper left a message")
declare(
    "appointment_booked", AppointmentBookedPayload, A.ASSOCIATE, summary="a consultation booked"
)
declare(
    "appointment_cancelled",
    AppointmentCancelledPayload,
    A.ASSOCIATE,
    summary="a consultation was cancelled",
)
declare(
    "shopper_waiting",
    ShopperWaitingPayload,
    A.HOSTS,
    summary="the shopper is on the waiting screen (also told to the associate's console)",
)
declare("rated", RatedPayload, A.ASSOCIATE, summary="the shopper rated the consultation")


# --- the table, for docs/events.md ------------------------------------------------------


def _type_name(tp: Any) -> str:
    text = str(tp) if typing.get_origin(tp) or not isinstance(tp, type) else tp.__name__
    # " or ", not "|": a bar would split the Markdown table's cell.
    return text.replace("typing.", "").replace("NoneType", "None").replace(" | ", " or ")


def payload_fields(kind: EventKind) -> str:
    hints = typing.get_type_hints(kind.payload, include_extras=True)
    parts = []
    for name, tp in hints.items():
        optional = typing.get_origin(tp) is NotRequired
        inner = typing.get_args(tp)[0] if optional else tp
        parts.append(f"`{name}{'?' if optional else ''}`: {_type_name(inner)}")
    return ", ".join(parts) or "(none)"


def markdown_table() -> str:
    """The kinds as a Markdown table (kind, audience, payload, meaning)."""
    rows = ["| Kind | Audience | Payload | When |", "|---|---|---|---|"]
    for kind in KINDS.values():
        audiences = ", ".join(sorted(a.value for a in kind.audiences))
        rows.append(f"| `{kind.name}` | {audiences} | {payload_fields(kind)} | {kind.summary} |")
    return "\n".join(rows) + "\n"


# --- accounts ---------------------------------------------------------------------------


class SessionsEndedPayload(Payload):
    user_id: int


declare(
    "sessions_ended",
    SessionsEndedPayload,
    A.USER,
    summary="a staff member signed out, changed password or was deactivated: close their sockets",
)


# --- privacy (sessions/privacy/) ---------------------------------------------------------


class ConsentPayload(Payload):
    live_session_id: int
    accepted: bool
    recording: bool  # the consultation will be recorded (the brand records, the shopper agreed)
    at: str  # ISO time of the answer


declare(
    "consent",
    ConsentPayload,
    A.HOSTS,
    summary="the shopper said yes or no to keeping the consultation's recording and pictures",
)


class ShopperErasedPayload(Payload):
    shopper_id: int


declare(
    "shopper_erased",
    ShopperErasedPayload,
    A.SHOPPER,
    summary="a shopper's data was erased: close their sockets, on every node",
)


# --- analytics --------------------------------------------------------------------------


class LiveFiguresPayload(Payload):
    live_session_id: int
    adds: int
    add_value_minor: int
    orders: int
    revenue_minor: int


declare(
    "live_figures",
    LiveFiguresPayload,
    A.HOSTS,
    summary="the host console's live panel: adds, their value, attributed orders and revenue",
)


# --- threads: the shopper's conversation with the brand --------------------------------


class ThreadMessagePayload(Payload):
    thread_id: int
    message: dict[str, Any]  # the stored message, as the history returns it


class ThreadChangedPayload(Payload):
    thread: dict[str, Any]  # the thread's state (status, who holds it), as the API returns it


class ThreadTypingPayload(Payload):
    thread_id: int
    side: str  # shopper or staff: who types
    name: str


class ThreadReadPayload(Payload):
    thread_id: int
    side: str  # shopper or staff: who has read
    message_id: int


class ThreadOfferPayload(Payload):
    thread_id: int
    shopper_name: str
    preview: str


class ThreadIdPayload(Payload):
    thread_id: int


declare(
    "thread_message",
    ThreadMessagePayload,
    A.SHOPPER,
    A.ASSOCIATE,
    A.BRAND_STAFF,
    summary="a thread message was stored: to its shopper, and its associate (the brand's "
    "staff while it waits)",
)
declare(
    "thread_changed",
    ThreadChangedPayload,
    A.SHOPPER,
    A.BRAND_STAFF,
    summary="a thread was opened, taken, transferred or closed (the inbox tabs move it)",
)
declare(
    "thread_typing",
    ThreadTypingPayload,
    A.SHOPPER,
    A.ASSOCIATE,
    A.BRAND_STAFF,
    summary="someone is typing in a thread: to the other side, never stored",
)
declare(
    "thread_read",
    ThreadReadPayload,
    A.SHOPPER,
    A.ASSOCIATE,
    A.BRAND_STAFF,
    summary="one side read a thread up to a message: to the other side",
)
declare("thread_offer", ThreadOfferPayload, A.ASSOCIATE, summary="a waiting thread is offered")
declare(
    "thread_offer_withdrawn",
    ThreadIdPayload,
    A.ASSOCIATE,
    summary="a thread offer timed out, was declined or taken by a colleague",
)


# --- video from a thread: "Show me on camera" ------------------------------------------


class VideoRequestPayload(Payload):
    request: dict[str, Any]  # the request, as GET /api/threads/{id}/video returns it


declare(
    "video_request",
    VideoRequestPayload,
    A.SHOPPER,
    A.ASSOCIATE,
    summary="a video request in a thread was made, accepted (its consultation is open), "
    "declined, cancelled or lapsed unanswered: to the thread's shopper and the associate "
    "holding it",
)


# --- live means pushed: the waiting screens and the console's counts -------------------


class QueuePositionPayload(Payload):
    request_id: int
    status: str  # waiting or offered (an associate is about to answer)
    position: int  # 1 = next
    estimated_wait_seconds: int  # 0: someone has a free place now


class QueueWaitingPayload(Payload):
    brand_id: int
    waiting: int  # talk-now requests open at the brand (waiting or offered)


declare(
    "queue_position",
    QueuePositionPayload,
    A.SHOPPER,
    summary="the talk-now queue moved: the waiting shopper's place and an honest wait",
)
declare(
    "queue_waiting",
    QueueWaitingPayload,
    A.BRAND_STAFF,
    summary="how many shoppers wait in the brand's talk-now queue (the console's count)",
)


# --- a show's polls and questions (sessions/shows/polls.py, questions.py) -----------------


class PollEventPayload(Payload):
    poll: dict[str, Any]  # the poll with its results, as the room state lists it


class QuestionEventPayload(Payload):
    question: dict[str, Any]  # the question, as the room state lists it


class QuestionPinnedPayload(Payload):
    question: dict[str, Any] | None  # None: nothing is pinned any more


declare(
    "poll",
    PollEventPayload,
    A.ROOM,
    summary="a poll opened, got a vote (its results) or closed (by a host or at its end)",
)
declare(
    "question",
    QuestionEventPayload,
    A.ROOM,
    summary="a question was asked, upvoted, answered on air or hidden by a host",
)
declare(
    "question_pinned",
    QuestionPinnedPayload,
    A.ROOM,
    summary="the question answered on air is pinned over the video (None: unpinned)",
)


# --- the shared bag of a 1:1 (a thread, its consultation room) --------------------------


class SharedBagPayload(Payload):
    thread_id: int
    bag: dict[str, Any]  # as GET /api/threads/{id}/bag returns it
    by: str  # who changed it: the shopper's or the associate's name


declare(
    "shared_bag",
    SharedBagPayload,
    A.SHOPPER,
    A.BRAND_STAFF,
    summary="the shared bag of a thread changed (added, quantity, removed, checked out): to "
    "its shopper and the brand's staff (the inbox and the consultation room)",
)


# --- a show's co-host (sessions/shows/cohost.py) -----------------------------------------


class CohostPayload(Payload):
    cohost_id: int
    name: str  # what viewers read under the co-host's picture
    invited_as: str  # associate or guest
    status: str  # invited, accepted, removed or withdrawn
    on_air: bool  # their camera reaches the relay
    muted: bool  # silenced by the host at the relay


declare(
    "cohost",
    CohostPayload,
    A.ROOM,
    summary="a show's co-host was invited, accepted, went on or off air, was muted or removed",
)


class CohostInvitationPayload(Payload):
    show_id: int
    cohost_id: int
    title: str  # the show's
    url: str  # the associate's co-host page


class CohostInvitationWithdrawnPayload(Payload):
    show_id: int
    cohost_id: int


declare(
    "cohost_invitation",
    CohostInvitationPayload,
    A.ASSOCIATE,
    summary="an associate was invited to co-host a show: to their consoles, with their page",
)
declare(
    "cohost_invitation_withdrawn",
    CohostInvitationWithdrawnPayload,
    A.ASSOCIATE,
    summary="an associate's co-host invitation was withdrawn or they were removed",
)
