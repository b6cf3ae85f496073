"""Service-desk fixtures: a staffed brand (as for consultations) and actors."""

from __future__ import annotations

from sessions.access import Actor, ActorKind
from sessions.models import AssociateProfile, Shopper
from tests.booking.conftest import Team, smtp, staff, team  # noqa: F401  (fixtures)


def shopper_actor(shopper: Shopper) -> Actor:
    return Actor(kind=ActorKind.SHOPPER, name=shopper.name or "Guest", shopper_id=shopper.id)


def associate_actor(profile: AssociateProfile) -> Actor:
    return Actor(
        kind=ActorKind.ASSOCIATE,
        name=profile.display_name,
        user_id=profile.user_id,
        brand_id=profile.brand_id,
        associate_id=profile.id,
    )


__all__ = ["Team", "associate_actor", "shopper_actor", "staff"]
