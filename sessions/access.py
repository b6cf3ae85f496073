"""Who may see or do what. Every page, API call and socket handler asks here.

The rules, in one place:
- a platform admin may do anything;
- a brand admin manages their own brand, never another's;
- an associate works within their brand: works the room of any of the brand's
  shows (pins, chat, offers), their own consultations, sees the brand's catalogue;
- a show is started and ended by its hosts (the associates named on it) alone; its
  brand's admin schedules, edits and cancels it and publishes, hides or trims its
  replay; a draft is seen by the brand's staff only;
- a shopper (guest) sees public brand pages, watches shows, and touches only
  their own bag, appointments and consultations;
- media: a show's host camera is published by its hosts and viewed by anyone
  who may join; its co-host camera (one at a time) is published by the co-host alone
  — the associate invited, or the browser that accepted the guest link — until the
  host removes them; the hosts and the brand's admin invite, mute and remove co-hosts;
  a consultation has two cameras, each side publishes its own and views the other's,
  and its shopper gets neither grant before being admitted;
- a bag is seen by its shopper, by its brand's admins, and by the host of a
  consultation of that brand with that shopper (never a bag at another brand).
Wrong role or wrong brand: Forbidden (403). Nobody signed in where staff is
needed: NotAuthenticated (401).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sessions.errors import N_, Forbidden, InvalidInput, NotAuthenticated, NotFound
from sessions.events import Address, Audience
from sessions.models import (
    AssociateProfile,
    Bag,
    Brand,
    CohostKind,
    CohostStatus,
    LiveSession,
    Product,
    QueueRequest,
    Role,
    SavedReply,
    SessionKind,
    SessionStatus,
    Show,
    ShowCohost,
    ShowStatus,
    Thread,
    User,
    Variant,
)


class ActorKind(enum.StrEnum):
    ANONYMOUS = "anonymous"
    SHOPPER = "shopper"
    ASSOCIATE = "associate"
    BRAND_ADMIN = "brand_admin"
    PLATFORM_ADMIN = "platform_admin"


STAFF_KINDS = {ActorKind.ASSOCIATE, ActorKind.BRAND_ADMIN, ActorKind.PLATFORM_ADMIN}


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str = "Guest"
    user_id: int | None = None
    shopper_id: int | None = None
    brand_id: int | None = None
    associate_id: int | None = None
    # Private shows whose access code this browser entered (kept in its signed session).
    show_passes: frozenset[int] = frozenset()
    # Co-host invitations (guest links) this browser accepted (its signed session).
    cohost_passes: frozenset[int] = frozenset()

    @property
    def is_staff(self) -> bool:
        return self.kind in STAFF_KINDS

    @property
    def is_platform_admin(self) -> bool:
        return self.kind is ActorKind.PLATFORM_ADMIN

    @property
    def identity(self) -> str:
        """A stable label for grants and logs: 'user:3' or 'shopper:9'."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        if self.shopper_id is not None:
            return f"shopper:{self.shopper_id}"
        return "anonymous"


ANONYMOUS = Actor(kind=ActorKind.ANONYMOUS)

ROLE_TO_KIND = {
    Role.PLATFORM_ADMIN: ActorKind.PLATFORM_ADMIN,
    Role.BRAND_ADMIN: ActorKind.BRAND_ADMIN,
    Role.ASSOCIATE: ActorKind.ASSOCIATE,
}


def check_signed_in_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise NotAuthenticated("Sign in as brand staff to do this.")


def access_brand_admin(actor: Actor, brand_id: int) -> None:
    """Manage a brand: catalogue, stores, associates, shows, settings."""
    check_signed_in_staff(actor)
    if actor.is_platform_admin:
        return
    if actor.kind is not ActorKind.BRAND_ADMIN:
        raise Forbidden("Only a brand admin may do this.")
    if actor.brand_id != brand_id:
        raise Forbidden("This belongs to another brand.")


def access_brand_staff(actor: Actor, brand_id: int) -> None:
    """Read the brand's internal data (orders in bags, queue, console)."""
    check_signed_in_staff(actor)
    if actor.is_platform_admin:
        return
    if actor.brand_id != brand_id:
        raise Forbidden("This belongs to another brand.")


def check_platform_admin(actor: Actor) -> None:
    check_signed_in_staff(actor)
    if not actor.is_platform_admin:
        raise Forbidden("Only a platform admin may do this.")


def can_host(actor: Actor, live: LiveSession) -> bool:
    if not actor.is_staff:
        return False
    if actor.is_platform_admin:
        return True
    if actor.brand_id != live.brand_id:
        return False
    if live.kind is SessionKind.CONSULTATION:
        # A consultation is the associate's own; the brand admin may step in.
        return actor.kind is ActorKind.BRAND_ADMIN or actor.associate_id == live.associate_id
    return True


def access_host(actor: Actor, live: LiveSession) -> None:
    """Go live, pin, moderate, start offers: the host side of a session."""
    check_signed_in_staff(actor)
    if not can_host(actor, live):
        raise Forbidden("Only this session's host may do this.")


def can_join(actor: Actor, live: LiveSession) -> bool:
    if can_host(actor, live):
        return True
    if live.kind is SessionKind.SHOW:
        # A private show: whoever entered its access code (the brand's staff passed above).
        return not live.private or live.show_id in actor.show_passes
    return actor.shopper_id is not None and actor.shopper_id == live.shopper_id


def access_join(actor: Actor, live: LiveSession) -> None:
    """Watch a show (anyone; a private one: whoever entered its code), or enter a
    consultation (its shopper and associate only)."""
    if not can_join(actor, live):
        if live.kind is SessionKind.SHOW:
            raise Forbidden("This show is private: enter its access code.", code="private_show")
        raise Forbidden("This consultation is private.")


def access_shopper_side(actor: Actor, live: LiveSession) -> None:
    """Act as a consultation's shopper: arrive in the waiting room, rate it afterwards."""
    access_join(actor, live)
    if actor.shopper_id is None or actor.shopper_id != live.shopper_id:
        raise Forbidden("Only the shopper of this consultation may do this.")


def access_associate(actor: Actor, profile: AssociateProfile) -> None:
    """An associate's own affairs (hours, days off, status, their day, their record):
    the associate themself, or their brand's admin."""
    check_signed_in_staff(actor)
    if profile.id is not None and actor.associate_id == profile.id:
        return
    access_brand_admin(actor, profile.brand_id)


def access_queue_request(actor: Actor, request: QueueRequest) -> None:
    """A talk-now request is its shopper's (place in the queue, leaving it).

    Someone else's request answers 404, not 403: ids are sequential, and whether
    another shopper is waiting is nobody else's business."""
    if actor.shopper_id is None or actor.shopper_id != request.shopper_id:
        raise NotFound(N_("No request with id %(id)s."), params={"id": request.id})


# --- shows: who moves a show through its lifecycle (sessions/shows/lifecycle.py) -------


def can_host_show(actor: Actor, show: Show, host_ids: set[int] | frozenset[int]) -> bool:
    """Go on air and off it: the show's hosts (the associates named on it), a platform
    admin; not another associate of the brand, not the brand's admin unless named."""
    if actor.is_platform_admin:
        return True
    return (
        actor.is_staff
        and actor.brand_id == show.brand_id
        and actor.associate_id is not None
        and actor.associate_id in host_ids
    )


def access_show_on_air(actor: Actor, show: Show, host_ids: set[int] | frozenset[int]) -> None:
    """Start a scheduled show, end a live one."""
    check_signed_in_staff(actor)
    if not can_host_show(actor, show, host_ids):
        raise Forbidden("Only this show's hosts may start or end it.")


def access_show_programme(actor: Actor, show: Show) -> None:
    """Schedule a draft, edit a show, cancel one: its brand's admin."""
    access_brand_admin(actor, show.brand_id)


def access_show_replay(actor: Actor, show: Show) -> None:
    """Publish, hide or trim a show's replay: its brand's admin."""
    access_brand_admin(actor, show.brand_id)


def access_show_reminders(actor: Actor, show: Show) -> None:
    """How many asked to be reminded of a show: its brand's staff (never the addresses)."""
    access_brand_staff(actor, show.brand_id)


def can_list_show(actor: Actor, show: Show) -> bool:
    """In a brand's lists of shows: a private one only to the brand's staff (its invitees
    reach it by the link they were given)."""
    if show.private and not (
        actor.is_staff and (actor.is_platform_admin or actor.brand_id == show.brand_id)
    ):
        return False
    return can_see_show(actor, show)


def access_show_invitees(actor: Actor, show: Show) -> None:
    """Invite people to a private show with personal links, see who came, revoke a link:
    its brand's admin."""
    access_brand_admin(actor, show.brand_id)


def access_show_private(actor: Actor, show: Show) -> None:
    """Make a show private (set or change its access code) or public again: its brand's admin."""
    access_brand_admin(actor, show.brand_id)


def access_show_invitee(actor: Actor, show: Show) -> None:
    """Act on a private show outside its room (ask to be reminded of it): its brand's
    staff, or whoever entered its access code — the rule ``can_join`` applies in the room."""
    staff = actor.is_staff and (actor.is_platform_admin or actor.brand_id == show.brand_id)
    if show.private and not staff and show.id not in actor.show_passes:
        raise Forbidden("This show is private: enter its access code.", code="private_show")


def can_see_show(actor: Actor, show: Show) -> bool:
    """A draft is the brand's staff's only; every other show is public."""
    if show.status is not ShowStatus.DRAFT:
        return True
    return actor.is_staff and (actor.is_platform_admin or actor.brand_id == show.brand_id)


def can_watch_replay(actor: Actor, show: Show) -> bool:
    """A recording plays to shoppers once its brand's admin published it; the brand's
    staff see it from the end of the show on (to trim it, to decide)."""
    if not show.replay_path:
        return False
    if show.status is ShowStatus.REPLAY_PUBLISHED:
        return True
    over = show.status in (ShowStatus.ENDED, ShowStatus.REPLAY_HIDDEN)
    return over and actor.is_staff and (actor.is_platform_admin or actor.brand_id == show.brand_id)


def access_replay_captions(actor: Actor, show: Show, live: LiveSession) -> None:
    """Read a replay's captions: whoever may watch the replay (a private show's: whoever
    may join it too); to anyone else they do not exist (404)."""
    if not can_watch_replay(actor, show):
        raise NotFound(N_("This show has no replay to caption."))
    access_join(actor, live)


def access_see_show(actor: Actor, show: Show) -> None:
    """Read a show (page, API, calendar file, remind me): a draft answers 404 to anyone
    outside its brand's staff, as if it did not exist yet."""
    if not can_see_show(actor, show):
        raise NotFound(N_("No show with id %(id)s."), params={"id": show.id})


# --- threads (the shopper's conversation with the brand) --------------------------------


def can_see_thread(actor: Actor, thread: Thread) -> bool:
    """A thread is its shopper's and its brand's staff's alone."""
    if actor.shopper_id is not None and actor.shopper_id == thread.shopper_id:
        return True
    return actor.is_staff and (actor.is_platform_admin or actor.brand_id == thread.brand_id)


def access_thread(actor: Actor, thread: Thread) -> None:
    """Read a thread, post as its shopper, mark it read, say one is typing.

    Another shopper is told 404 (ids are sequential: whether someone else has a
    thread is nobody's business); another brand's staff 403, as everywhere."""
    if can_see_thread(actor, thread):
        return
    if actor.is_staff:
        raise Forbidden("This belongs to another brand.")
    raise NotFound(N_("No thread with id %(id)s."), params={"id": thread.id})


def access_thread_staff(actor: Actor, thread: Thread) -> None:
    """Take a waiting thread, see it in the inbox: the brand's staff."""
    check_signed_in_staff(actor)
    access_brand_staff(actor, thread.brand_id)


def access_thread_answer(actor: Actor, thread: Thread) -> None:
    """Answer, transfer or close a thread on the staff side: the associate who holds
    it, or the brand's admin stepping in (a colleague takes it by transfer, not by
    typing into it)."""
    access_thread_staff(actor, thread)
    if actor.is_platform_admin or actor.kind is ActorKind.BRAND_ADMIN:
        return
    if actor.associate_id is None or actor.associate_id != thread.associate_id:
        raise Forbidden("This conversation is a colleague's; ask them to transfer it.")


def access_video_ask(actor: Actor, thread: Thread) -> str:
    """Ask for video in a thread: its shopper ("Show me on camera"), or the associate
    holding it ("Try it on for you on camera"), who is the one to go on camera (a
    colleague or the brand's admin is refused: a consultation is one associate's).
    Returns the side: 'shopper' or 'staff'."""
    access_thread(actor, thread)
    if actor.shopper_id is not None and actor.shopper_id == thread.shopper_id:
        return "shopper"
    access_thread_answer(actor, thread)
    if actor.associate_id is None or actor.associate_id != thread.associate_id:
        raise Forbidden(
            "Only the associate holding this conversation goes on camera in it.",
            code="not_holder",
        )
    return "staff"


def access_video_answer(actor: Actor, thread: Thread, asked_by: str) -> str:
    """Accept or decline a video request: the other side of whoever asked."""
    side = access_video_ask(actor, thread)
    if side == asked_by:
        raise Forbidden("You asked: the other side answers (you may cancel).", code="own_request")
    return side


def access_video_cancel(actor: Actor, thread: Thread, asked_by: str) -> str:
    """Withdraw a video request: whoever asked."""
    side = access_video_ask(actor, thread)
    if side != asked_by:
        raise Forbidden("The other side asked: accept or decline it.", code="not_yours")
    return side


# --- saved replies ---------------------------------------------------------------------


def access_brand_replies(actor: Actor, brand_id: int) -> None:
    """Make the brand's saved replies (for all its staff): its admin."""
    access_brand_admin(actor, brand_id)


def access_own_replies(actor: Actor, brand_id: int) -> None:
    """Keep saved replies of one's own: an associate of the brand."""
    access_brand_staff(actor, brand_id)
    if actor.associate_id is None:
        raise Forbidden("Only an associate keeps saved replies of their own.", code="not_associate")


def access_manage_reply(actor: Actor, reply: SavedReply) -> None:
    """Edit or delete a saved reply: the brand's by its admin; an associate's own by
    themself, or by their brand's admin (who may remove what has no place in the brand's
    conversations). A colleague's own reply is not another associate's to touch."""
    check_signed_in_staff(actor)
    if reply.associate_id is not None and actor.associate_id == reply.associate_id:
        return
    access_brand_staff(actor, reply.brand_id)
    if actor.is_platform_admin or actor.kind is ActorKind.BRAND_ADMIN:
        return
    if reply.associate_id is None:
        raise Forbidden("Only a brand admin may change the brand's saved replies.")
    raise Forbidden("This saved reply is a colleague's own.")


def can_use_reply(actor: Actor, reply: SavedReply) -> bool:
    """The brand's staff use the brand's replies and their own (not a colleague's own)."""
    if not actor.is_staff:
        return False
    if actor.is_platform_admin:
        return True
    if actor.brand_id != reply.brand_id:
        return False
    return reply.associate_id is None or reply.associate_id == actor.associate_id


def access_use_reply(actor: Actor, reply: SavedReply) -> None:
    """Insert a saved reply into a conversation."""
    check_signed_in_staff(actor)
    access_brand_staff(actor, reply.brand_id)
    if not can_use_reply(actor, reply):
        raise Forbidden("This saved reply is a colleague's own.")


def can_see_thread_bag(actor: Actor, thread: Thread) -> bool:
    """The shopper's bag and orders, in the history beside a thread: as for a consultation,
    the associate in the 1:1 (who holds the thread) and the brand's admins; a colleague
    who reads the thread does not see them."""
    if not can_see_thread(actor, thread) or not actor.is_staff:
        return False
    if actor.is_platform_admin or actor.kind is ActorKind.BRAND_ADMIN:
        return True
    return actor.associate_id is not None and actor.associate_id == thread.associate_id


def can_see_product(actor: Actor, product: Product) -> bool:
    """An active product is public; an inactive one only to its brand's staff."""
    if product.is_active:
        return True
    return actor.is_staff and (actor.is_platform_admin or actor.brand_id == product.brand_id)


# --- co-hosts: a second camera on a show (sessions/shows/cohost.py) --------------------


def can_manage_cohost(actor: Actor, show: Show, host_ids: set[int] | frozenset[int]) -> bool:
    """Invite, mute and remove a show's co-host: its hosts, its brand's admin, a platform
    admin; not another associate of the brand."""
    if actor.is_platform_admin:
        return True
    if not actor.is_staff or actor.brand_id != show.brand_id:
        return False
    return actor.kind is ActorKind.BRAND_ADMIN or (
        actor.associate_id is not None and actor.associate_id in host_ids
    )


def access_cohost_manage(actor: Actor, show: Show, host_ids: set[int] | frozenset[int]) -> None:
    check_signed_in_staff(actor)
    if not can_manage_cohost(actor, show, host_ids):
        raise Forbidden("Only this show's hosts or its brand's admin may manage its co-host.")


def access_cohost_link(cohost: ShowCohost | None, now: datetime) -> ShowCohost:
    """A guest link (found by its token's hash) that may still be accepted: unused,
    unexpired, not withdrawn. Anyone holding it may; that is what the link is for."""
    if cohost is None or cohost.kind is not CohostKind.GUEST:
        raise NotFound("This invitation link is not valid.", code="cohost_link_unknown")
    if cohost.used_at is not None or cohost.status is not CohostStatus.INVITED:
        raise Forbidden("This invitation link has already been used.", code="cohost_link_used")
    if cohost.expires_at <= now:
        raise Forbidden("This invitation link has expired.", code="cohost_link_expired")
    return cohost


def is_cohost(actor: Actor, cohost: ShowCohost) -> bool:
    """The invited associate signed in, or the browser that accepted the guest link."""
    if cohost.kind is CohostKind.ASSOCIATE:
        return actor.associate_id is not None and actor.associate_id == cohost.associate_id
    return cohost.id is not None and cohost.id in actor.cohost_passes


def can_see_cohost_invitation(actor: Actor, cohost: ShowCohost) -> bool:
    """An associate's invitation to co-host, on their console: the associate themself,
    signed in as staff, while it stands (not removed, not withdrawn)."""
    return (
        actor.is_staff
        and cohost.kind is CohostKind.ASSOCIATE
        and is_cohost(actor, cohost)
        and cohost.status not in (CohostStatus.REMOVED, CohostStatus.WITHDRAWN)
    )


def access_cohost_stage(actor: Actor, cohost: ShowCohost) -> None:
    """Open the co-host page, publish the co-host camera, say it is on air: the co-host
    themself while the invitation stands (an associate's needs no acceptance step)."""
    if not is_cohost(actor, cohost):
        if cohost.kind is CohostKind.ASSOCIATE and not actor.is_staff:
            raise NotAuthenticated("Sign in as the invited associate to co-host.")
        raise Forbidden("You are not this show's co-host.", code="not_cohost")
    if cohost.status is CohostStatus.REMOVED:
        raise Forbidden("The host removed you from this show.", code="cohost_removed")
    if cohost.status is CohostStatus.WITHDRAWN:
        raise Forbidden("This invitation was withdrawn.", code="cohost_withdrawn")


def access_cohost_publish(actor: Actor, cohost: ShowCohost, live: LiveSession) -> str:
    """A publish grant for the co-host camera: the co-host, while the show is on air.
    Returns the relay room (the show's: the grant's slot says which camera)."""
    access_cohost_stage(actor, cohost)
    if live.status is not SessionStatus.LIVE:
        raise Forbidden("The show is not on air yet.", code="not_live")
    return live.room


def access_tryon_ask(actor: Actor, product: Product) -> None:
    """Try it on for me: a shopper, on a product they may see."""
    if actor.shopper_id is None:
        raise Forbidden("Only a shopper asks; staff answer from the console.", code="not_shopper")
    if not can_see_product(actor, product):
        raise NotFound("This product is no longer available.")


def access_store_stock(actor: Actor, brand_id: int) -> None:
    """Shelf stock per store is catalogue: the brand's admin edits it."""
    access_brand_admin(actor, brand_id)


# --- media on the relay ---------------------------------------------------------


class MediaSide(enum.StrEnum):
    """Which camera of a session: the host's (a show's only one) or a consultation's shopper's."""

    HOST = "host"
    SHOPPER = "shopper"


def media_room(live: LiveSession, side: MediaSide) -> str:
    """The relay room of one camera: the session's room, or '<room>-shopper'."""
    return f"{live.room}-shopper" if side is MediaSide.SHOPPER else live.room


def access_media(actor: Actor, live: LiveSession, role: str, side: MediaSide) -> str:
    """May the actor publish or view this camera of the session? Returns its relay room.

    Every media grant, by any endpoint, is decided here. A show has one camera: its
    hosts publish it, whoever may join views it. A consultation has two: each side
    publishes its own and views the other's; its shopper gets no grant at all until
    the associate admits them (the waiting room), and nobody gets one once it ended.
    """
    if role not in ("publish", "view"):
        raise InvalidInput("The role is 'publish' or 'view'.", field="role")
    if live.kind is not SessionKind.CONSULTATION:
        if side is not MediaSide.HOST:
            raise InvalidInput("Only a consultation has a shopper camera.")
        (access_host if role == "publish" else access_join)(actor, live)
        return media_room(live, side)
    access_join(actor, live)
    if live.status is SessionStatus.ENDED:
        raise Forbidden("This consultation has ended.", code="ended")
    own_side = MediaSide.HOST if can_host(actor, live) else MediaSide.SHOPPER
    if (role == "publish") != (side is own_side):
        raise Forbidden("You may publish only your own camera and view only the other side.")
    if own_side is MediaSide.SHOPPER and live.status is not SessionStatus.LIVE:
        raise Forbidden("The associate has not let you in yet.", code="not_admitted")
    return media_room(live, side)


# --- bags --------------------------------------------------------------------------


def _hosts_consultation_with(actor: Actor, live: LiveSession | None, bag: Bag) -> bool:
    """The actor hosts a consultation, at the bag's brand, with the bag's shopper."""
    return (
        live is not None
        and live.kind is SessionKind.CONSULTATION
        and live.brand_id == bag.brand_id
        and live.shopper_id == bag.shopper_id
        and can_host(actor, live)
    )


def can_see_room_bag(actor: Actor, live: LiveSession) -> bool:
    """Does a room show this actor a bag: a shopper their own, a consultation's host the
    shopper's (the shared bag)? Which bag, and whether it may be read: access_bag."""
    if actor.shopper_id is not None:
        return True
    return live.kind is SessionKind.CONSULTATION and can_host(actor, live)


def access_add_outside_live(actor: Actor, brand: Brand) -> None:
    """Add to the bag from a product page, outside any show, replay or consultation: only
    at a brand that sells so (``Brand.bag_outside_live``, its settings). Everyone alike:
    the brand's choice is about the shop, not about who asks (a consultation's shared bag
    goes through ``access_shared_bag``)."""
    if not brand.bag_outside_live:
        raise Forbidden(
            N_(
                "%(brand)s adds pieces to the bag during its live shows, replays "
                "and consultations only."
            ),
            params={"brand": brand.name},
            code="bag_outside_live",
        )


def access_bag(actor: Actor, bag: Bag, live: LiveSession | None = None) -> None:
    """A bag is its shopper's; in a consultation of the bag's brand with that shopper,
    the host's too; the brand's admins may look at any of the brand's bags."""
    if actor.shopper_id is not None and actor.shopper_id == bag.shopper_id:
        return
    # The consultation must be at the bag's brand: hosting one shopper's consultation at
    # one brand opens none of that shopper's bags at another.
    if _hosts_consultation_with(actor, live, bag):
        return
    # Customer service: the brand's admins see its bags; associates only the bag of the
    # shopper they are in a consultation with (above).
    if actor.is_platform_admin or (
        actor.kind is ActorKind.BRAND_ADMIN and actor.brand_id == bag.brand_id
    ):
        return
    raise Forbidden("This bag is not yours.")


def access_manage_user(actor: Actor, user: User) -> None:
    """Deactivate or reactivate a staff account: their brand's admin (or a platform admin),
    never oneself (a brand must not lose its last admin by a slip of the mouse)."""
    check_signed_in_staff(actor)
    if actor.user_id is not None and actor.user_id == user.id:
        raise Forbidden("You cannot deactivate your own account.")
    if actor.is_platform_admin:
        return
    if user.brand_id is None:
        raise Forbidden("Only a platform admin may do this.")
    access_brand_admin(actor, user.brand_id)


def access_manage_staff(actor: Actor, brand_id: int) -> None:
    """Invite staff to a brand, resend or revoke an invitation: the brand's admin."""
    access_brand_admin(actor, brand_id)


def access_change_role(actor: Actor, user: User) -> None:
    """Make an associate a brand admin or the other way: their brand's admin (themself
    included; the action keeps at least one active admin per brand), or a platform admin.
    A platform admin's own role is not a brand's to change."""
    check_signed_in_staff(actor)
    if user.role is Role.PLATFORM_ADMIN:
        raise Forbidden("A platform admin's role is not changed here.")
    if actor.is_platform_admin:
        return
    if user.brand_id is None:
        raise Forbidden("Only a platform admin may do this.")
    access_brand_admin(actor, user.brand_id)


def access_two_factor(actor: Actor) -> None:
    """Turn one's own two-factor sign-in on or off: brand admins (and platform admins),
    who hold the keys to a brand; associates sign in with their password alone."""
    check_signed_in_staff(actor)
    if actor.kind is ActorKind.ASSOCIATE:
        raise Forbidden("Two-factor sign-in is for brand admins.")


def can_receive(actor: Actor, address: Address) -> bool:
    """May this person's sockets hear events sent to a shopper, an associate, a brand's
    staff or one staff member? Only the shopper themself, the associate themself, that
    brand's staff, and the staff member themself (their sessions ended). A room's
    audiences are joined through `can_join`/`can_host` instead."""
    if address.audience is Audience.SHOPPER:
        return actor.shopper_id is not None and actor.shopper_id == address.id
    if address.audience is Audience.ASSOCIATE:
        return actor.is_staff and actor.associate_id == address.id
    if address.audience is Audience.BRAND_STAFF:
        return actor.is_staff and actor.brand_id is not None and actor.brand_id == address.id
    if address.audience is Audience.USER:
        return actor.user_id is not None and actor.user_id == address.id
    return False


@dataclass(frozen=True)
class MediaClaims:
    """What the relay is told about a room, on the publisher's grant."""

    public: bool  # HLS, thumbnail and replay served to anyone
    record: bool  # keep a recording

    def grant_claims(self) -> dict[str, bool]:
        """Keyword arguments of ``sessions.grants.issue_grant``."""
        return {"public": self.public, "record": self.record}


def media_claims(live: LiveSession, brand: Brand, consented: bool = False) -> MediaClaims:
    """A show is public (a private one too: its HLS and replay URLs are unguessable and
    reached only through the join gate, its page) and recorded,
    its recording becoming the replay. A consultation is between one shopper and the
    brand's staff: never public, recorded only when the brand turned
    ``record_consultations`` on and its shopper said yes when asked (``consented``,
    sessions/privacy/consent.py)."""
    if live.kind is SessionKind.SHOW:
        return MediaClaims(public=True, record=True)
    return MediaClaims(public=False, record=brand.record_consultations and consented)


def can_see_snapshot(actor: Actor, live: LiveSession) -> bool:
    """A show's snapshots went to its whole chat; a consultation's stay between its
    shopper and the brand's staff."""
    if live.kind is SessionKind.SHOW:
        return can_join(actor, live)
    if actor.shopper_id is not None and actor.shopper_id == live.shopper_id:
        return True
    return actor.is_staff and (actor.is_platform_admin or actor.brand_id == live.brand_id)


def access_snapshot(actor: Actor, live: LiveSession) -> None:
    if not can_see_snapshot(actor, live):
        if not actor.is_staff and actor.shopper_id is None:
            raise NotAuthenticated("This picture belongs to a private consultation.")
        raise Forbidden("This picture belongs to a private consultation.")


def access_variant_reference_colour(actor: Actor, variant: Variant) -> None:
    """Keep a variant's measured reference colour: its brand's staff (the associate holding
    the piece and the card, or an admin), since the value comes from the camera, not a form."""
    access_brand_staff(actor, variant.brand_id)


def access_brand_analytics(actor: Actor, brand_id: int) -> None:
    """Read what the brand's shows and team earned (figures, charts, exports): its admins."""
    access_brand_admin(actor, brand_id)


def can_read_associate_analytics(actor: Actor, brand_id: int, associate_id: int) -> bool:
    """An associate's own figures: the associate themself, or their brand's admin."""
    if actor.is_platform_admin:
        return True
    if actor.brand_id != brand_id or not actor.is_staff:
        return False
    return actor.kind is ActorKind.BRAND_ADMIN or actor.associate_id == associate_id


def access_associate_analytics(actor: Actor, brand_id: int, associate_id: int) -> None:
    check_signed_in_staff(actor)
    if not can_read_associate_analytics(actor, brand_id, associate_id):
        raise Forbidden("Only this associate and their brand's admins may see these figures.")


# --- a show's polls and questions (sessions/shows/polls.py, questions.py) ----------------


def access_show_interaction_host(actor: Actor, live: LiveSession) -> None:
    """Open or close a poll, mark a question answered on air, hide one: the show room's
    host side (as pins and offers are), in a show's room only."""
    access_host(actor, live)
    if live.kind is not SessionKind.SHOW:
        raise InvalidInput("Polls and questions are for shows.", code="not_a_show")


def access_show_interaction_viewer(actor: Actor, live: LiveSession) -> None:
    """Vote in a poll, ask or upvote a question: a viewer of the show (a shopper, guest
    or not), never its hosts, who are on stage."""
    access_join(actor, live)
    if live.kind is not SessionKind.SHOW:
        raise InvalidInput("Polls and questions are for shows.", code="not_a_show")
    if can_host(actor, live):
        raise Forbidden("Hosts ask and vote on air, not in the audience.", code="host")
    if actor.shopper_id is None:
        raise Forbidden("Reload the page to take part.", code="not_identified")


def can_see_show_interaction(actor: Actor, live: LiveSession) -> bool:
    """Read a show's polls and questions (live, or in its replay): whoever may join it."""
    return live.kind is SessionKind.SHOW and can_join(actor, live)


def access_see_show_interaction(actor: Actor, live: LiveSession) -> None:
    if not can_see_show_interaction(actor, live):
        raise NotFound(N_("No show room with id %(id)s."), params={"id": live.id})


# --- a returning shopper: the e-mailed sign-in link, the shared bag --------------------


def access_signin_link(actor: Actor) -> None:
    """Ask for, or use, a shopper's e-mailed sign-in link: shoppers (and guests, who become
    one); staff are signed in as staff and have no shopper identity to carry over."""
    if actor.is_staff:
        raise Forbidden("You are signed in as staff; sign out to continue as a shopper.")


def can_edit_shared_bag(actor: Actor, thread: Thread) -> bool:
    """The bag of a 1:1 (the thread's shopper's open bag at its brand): the shopper, and the
    brand's staff who serve them (any associate of the brand may pick the thread up)."""
    if actor.shopper_id is not None and actor.shopper_id == thread.shopper_id:
        return True
    return actor.is_staff and (actor.is_platform_admin or actor.brand_id == thread.brand_id)


def access_shared_bag(actor: Actor, thread: Thread) -> None:
    """Read and edit the shared bag of a thread; another shopper is told 404 (as for the
    thread), another brand's staff 403."""
    if can_edit_shared_bag(actor, thread):
        return
    if actor.is_staff:
        raise Forbidden("This belongs to another brand.")
    raise NotFound(N_("No thread with id %(id)s."), params={"id": thread.id})


def access_shared_bag_checkout(actor: Actor, thread: Thread) -> None:
    """Only the shopper checks out: the bag goes to their own cart."""
    access_shared_bag(actor, thread)
    if actor.shopper_id != thread.shopper_id:
        raise Forbidden("Only the shopper checks out their bag.")


# --- privacy: a shopper's data, consent, the audit log (sessions/privacy/) -------------


def access_shopper_data(actor: Actor, shopper_id: int, brand_id: int | None) -> int | None:
    """Export or erase a shopper's data; returns the brand it is limited to (None: all).

    The shopper themself: everything Vitrine holds about them. A brand's admin, on the
    shopper's request to the brand: the shopper's rows at their own brand only. A platform
    admin: everything, or one brand's. Associates and other shoppers: refused."""
    if not actor.is_staff:
        if actor.shopper_id is None:
            raise NotAuthenticated("Open this page in the browser you shop with.")
        if actor.shopper_id != shopper_id:
            raise Forbidden("This is another shopper's data.")
        return None
    if actor.is_platform_admin:
        return brand_id
    if actor.kind is not ActorKind.BRAND_ADMIN:
        raise Forbidden("Only a brand admin may do this.")
    if brand_id is not None and brand_id != actor.brand_id:
        raise Forbidden("This belongs to another brand.")
    return actor.brand_id


def access_consent(actor: Actor, live: LiveSession) -> None:
    """Say yes or no to keeping a consultation's media: its shopper alone."""
    if live.kind is not SessionKind.CONSULTATION:
        raise InvalidInput("Consent is asked in a consultation.", code="not_a_consultation")
    if actor.is_staff:
        raise Forbidden("Only the shopper answers for themself.")
    if actor.shopper_id is None:
        raise NotAuthenticated("Open the consultation from its link to answer.")
    if actor.shopper_id != live.shopper_id:
        raise NotFound(N_("No consultation with id %(id)s."), params={"id": live.id})


def access_audit_log(actor: Actor, brand_id: int) -> None:
    """Read who changed what at a brand: its admins (and platform admins)."""
    access_brand_admin(actor, brand_id)
