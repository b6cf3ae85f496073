"""Who may see or do what. Every page, API call and socket handler asks here.

The rules, in one place:
- a platform admin may do anything;
- a brand admin manages their own brand, never another's;
- an associate works within their brand: hosts the shows they host (or any of
  the brand's shows), their own consultations, sees the brand's catalogue;
- a shopper (guest) sees public brand pages, watches shows, and touches only
  their own bag, appointments and consultations.
Wrong role or wrong brand: Forbidden (403). Nobody signed in where staff is
needed: NotAuthenticated (401).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sessions.errors import Forbidden, NotAuthenticated
from sessions.models import Bag, LiveSession, Role, SessionKind


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
        return True
    return actor.shopper_id is not None and actor.shopper_id == live.shopper_id


def access_join(actor: Actor, live: LiveSession) -> None:
    """Watch a show (anyone), or enter a consultation (its shopper and associate only)."""
    if not can_join(actor, live):
        raise Forbidden("This consultation is private.")


def access_bag(actor: Actor, bag: Bag, live: LiveSession | None = None) -> None:
    """A bag is its shopper's; in a consultation with that shopper, the host's too."""
    if actor.shopper_id is not None and actor.shopper_id == bag.shopper_id:
        return
    if (
        live is not None
        and live.kind is SessionKind.CONSULTATION
        and live.shopper_id == bag.shopper_id
        and can_host(actor, live)
    ):
        return
    # The brand's admins may look at any of its bags (customer service); associates
    # only at the bag of the shopper they are in a consultation with (above).
    if actor.is_platform_admin or (
        actor.kind is ActorKind.BRAND_ADMIN and actor.brand_id == bag.brand_id
    ):
        return
    raise Forbidden("This bag is not yours.")


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
