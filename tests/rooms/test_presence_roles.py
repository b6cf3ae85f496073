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


def test_the_local_count_follows_every_arrival_change_and_departure() -> None:
    """LocalPresence keeps its count as entries come and go (it no longer counts the room
    on every join): each way an entry can change moves it by exactly what it should."""
    presence = LocalPresence()
    for n in range(3):
        presence.add("live:1", f"viewer-{n}", {"shopper_id": None, "name": "", "role": "viewer"})
    presence.add("live:1", "console", {"shopper_id": None, "name": "Ana", "role": "host"})
    presence.add("live:2", "elsewhere", {"role": "viewer"})
    assert (presence.count("live:1"), presence.count("live:2")) == (3, 1)
    presence.add("live:1", "viewer-0", {"shopper_id": 7, "name": "Bea", "role": "viewer"})
    assert presence.count("live:1") == 3  # a guest became a shopper: the same viewer
    presence.add("live:1", "viewer-1", {"role": "cohost"})
    assert presence.count("live:1") == 2  # now the co-host's page: not a viewer
    presence.remove("live:1", "viewer-2")
    presence.remove("live:1", "viewer-2")  # a second leave of the same socket
    presence.remove("live:1", "console")
    presence.remove("live:3", "never-joined")
    assert presence.count("live:1") == 1
    presence.remove("live:1", "viewer-0")
    presence.remove("live:1", "viewer-1")
    assert presence.count("live:1") == 0 and presence.entries("live:1") == []
    presence.add("live:1", "back", {"role": "viewer"})
    assert presence.count("live:1") == 1
