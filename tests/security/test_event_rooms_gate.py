"""Who may hear a shopper's, an associate's or a brand staff's events: one gate.

The sockets join those rooms on connect only when ``access.can_receive`` allows; the real
node test (tests/rooms/test_event_audiences.py) shows the rooms in use.
"""

from __future__ import annotations

import pytest

from sessions.access import ANONYMOUS, Actor, ActorKind, can_receive
from sessions.events import Address, Audience

SHOPPER_1 = Actor(kind=ActorKind.SHOPPER, shopper_id=1)
ANNA = Actor(kind=ActorKind.ASSOCIATE, user_id=10, brand_id=1, associate_id=5)
ADMIN_A = Actor(kind=ActorKind.BRAND_ADMIN, user_id=11, brand_id=1)
ADMIN_B = Actor(kind=ActorKind.BRAND_ADMIN, user_id=12, brand_id=2)
PLATFORM = Actor(kind=ActorKind.PLATFORM_ADMIN, user_id=13)


@pytest.mark.parametrize(
    ("actor", "address", "allowed"),
    [
        (SHOPPER_1, Address(Audience.SHOPPER, 1), True),
        (SHOPPER_1, Address(Audience.SHOPPER, 2), False),  # another shopper's bag and offers
        (ANONYMOUS, Address(Audience.SHOPPER, 1), False),
        (ANNA, Address(Audience.ASSOCIATE, 5), True),
        (ANNA, Address(Audience.ASSOCIATE, 6), False),  # a colleague's offers
        (SHOPPER_1, Address(Audience.ASSOCIATE, 1), False),  # ids of different tables
        (ADMIN_A, Address(Audience.ASSOCIATE, 5), False),  # the admin sees the team elsewhere
        (ANNA, Address(Audience.BRAND_STAFF, 1), True),
        (ADMIN_A, Address(Audience.BRAND_STAFF, 1), True),
        (ADMIN_B, Address(Audience.BRAND_STAFF, 1), False),  # another brand's messages
        (SHOPPER_1, Address(Audience.BRAND_STAFF, 1), False),
        (PLATFORM, Address(Audience.BRAND_STAFF, 1), False),  # no brand: no brand room
        (ANNA, Address(Audience.ROOM), False),  # rooms are joined through can_join
        (ANNA, Address(Audience.HOSTS), False),  # and can_host
    ],
)
def test_can_receive(actor: Actor, address: Address, allowed: bool) -> None:
    assert can_receive(actor, address) is allowed
