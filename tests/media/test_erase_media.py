"""A consultation's media at the relay is deleted when the web node asks (a shopper's
erasure, a brand's retention): every file of both cameras' rooms, nothing of another room;
only with the internal token; the web node marks the room purged once the relay answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from flask import Flask
from sqlmodel import Session

from sessions.catalogue import new_room_name
from sessions.models import LiveSession, SessionKind
from tests.factories import Factory
from web.privacy import delete_rooms

from .conftest import INTERNAL, INTERNAL_TOKEN, RunningRelay

pytestmark = [pytest.mark.media, pytest.mark.anyio]


def media_of(media: Path, room: str) -> list[Path]:
    """The files a relay writes for a room (recording, HLS, thumbnail, snapshot)."""
    files = [
        media / "recordings" / f"{room}-20261201T101500Z.mp4",
        media / "hls" / room / "index.m3u8",
        media / "hls" / room / "0123456789ab-1.2.m4s",
        media / "thumbnails" / f"{room}.jpg",
        media / "snapshots" / f"{room}-1764584100000.jpg",
        media / "snapshots" / f"{room}-1764584100001.png",  # a colour snapshot
    ]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"media of " + room.encode())
    return files


async def test_the_relay_deletes_a_rooms_media_for_the_web_node_only(
    relay: RunningRelay, app: Flask, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    room = new_room_name("consult")
    live = LiveSession(brand_id=brand.id or 0, kind=SessionKind.CONSULTATION, room=room)
    session.add(live)
    session.commit()
    media = relay.config.media_dir
    mine = media_of(media, room) + media_of(media, f"{room}-shopper")
    other = media_of(media, f"{room}x")  # a room whose name starts the same: untouched

    async with aiohttp.ClientSession() as http:
        async with http.delete(f"{relay.url}/rooms/{room}/media") as refused:
            assert refused.status == 401
        async with http.delete(
            f"{relay.url}/rooms/{room}/media", headers={"Authorization": "Bearer wrong"}
        ) as refused:
            assert refused.status == 401
        async with http.delete(f"{relay.url}/rooms/..%2Fx/media", headers=INTERNAL) as bad:
            assert bad.status in (400, 404)
    assert all(p.exists() for p in mine)

    app.config.update(RELAY_INTERNAL_URL=relay.url, RELAY_INTERNAL_TOKEN=INTERNAL_TOKEN)
    done = await asyncio.to_thread(delete_rooms, app, [(live.id or 0, room)])
    assert done == [live.id]
    assert [p for p in mine if p.exists()] == []
    assert all(p.exists() for p in other)
    session.expire_all()
    marked = session.get(LiveSession, live.id)
    assert marked is not None and marked.media_purged_at is not None
    session.commit()

    # The relay down: nothing is marked, the next purge asks again.
    again = LiveSession(brand_id=brand.id or 0, kind=SessionKind.CONSULTATION, room=f"{room}y")
    session.add(again)
    session.commit()
    app.config.update(RELAY_INTERNAL_URL="http://127.0.0.1:9")
    assert await asyncio.to_thread(delete_rooms, app, [(again.id or 0, again.room)]) == []
    session.expire_all()
    unmarked = session.get(LiveSession, again.id)
    assert unmarked is not None and unmarked.media_purged_at is None
    session.commit()
