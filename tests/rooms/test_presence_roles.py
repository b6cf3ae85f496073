"""Only viewers count: the hosts' consoles and the co-host's page are in a show's room
(they hear it) but not in its viewer count, in the node's memory and in Redis alike."""

from __future__ import annotations

import uuid

import pytest

from web.sockets.presence import LocalPresence, Presence, RedisPresence

REDIS_URL = "redis://127.0.0.1:6379/0"


def _fill(presence: Presence, room: str) -> None:
    presence.add(room, "host-sid", {"shopper_id": None, "name": "Camille", "role": "host"})
    presence.add(room, "stage-sid", {"shopper_id": None, "name": "Inès", "role": "cohost"})
    for n in range(3):
        presence.add(room, f"viewer-{n}", {"shopper_id": n + 1, "name": None, "role": "viewer"})


def _check(presence: Presence, room: str) -> None:
    _fill(presence, room)
    assert presence.count(room) == 3
    roles = sorted(entry["role"] for entry in presence.entries(room))
    assert roles == ["cohost", "host", "viewer", "viewer", "viewer"]  # all still in the room
    presence.remove(room, "stage-sid")
    presence.remove(room, "viewer-0")
    assert presence.count(room) == 2 and len(presence.entries(room)) == 3
    # A socket joining again with another part is in one place, not two.
    presence.add(room, "host-sid", {"shopper_id": 9, "name": "Zoé", "role": "viewer"})
    assert presence.count(room) == 3 and len(presence.entries(room)) == 3


def test_local_presence_counts_viewers_only() -> None:
    _check(LocalPresence(), "show-local")


@pytest.mark.redis
def test_redis_presence_counts_viewers_only() -> None:
    presence = RedisPresence(REDIS_URL, f"test-{uuid.uuid4().hex[:10]}")
    room = "show-redis"
    try:
        _check(presence, room)
    finally:
        for sid in ("host-sid", "stage-sid", "viewer-0", "viewer-1", "viewer-2"):
            presence.remove(room, sid)
    assert presence.count(room) == 0 and presence.entries(room) == []
