"""The web node's part of erasure and retention: what only it can reach.

The domain (``sessions/privacy/``) erases rows and the pictures under UPLOAD_DIR; the
recordings of a consultation live at the relay, which deletes them when the web node asks
(``DELETE /rooms/<room>/media``, internal token). A room is marked purged only once the
relay answered, so a relay that was down is asked again by the next purge run."""

from __future__ import annotations

import logging
from pathlib import Path

import requests
from flask import Flask, current_app

from sessions.db import session_scope
from sessions.privacy.erase import Erasure, do_mark_media_purged
from sessions.privacy.retention import do_purge_due
from web.db import get_engine

log = logging.getLogger(__name__)


def upload_dir(app: Flask | None = None) -> Path:
    return Path((app or current_app).config["UPLOAD_DIR"])


def delete_room_media(app: Flask, room: str) -> bool:
    """Ask the relay to delete a consultation room's recordings, thumbnails and HLS (both
    cameras: the associate's room and the shopper's ``-shopper`` one)."""
    from web.relays import configured_relay, live_relays

    config = app.config
    headers = {"Authorization": f"Bearer {config['RELAY_INTERNAL_TOKEN']}"}
    # With several relays, a room's files are on whichever carried it (perhaps more than
    # one, after a move): ask every live one.
    relays = live_relays(app) or [configured_relay(app)]
    try:
        for relay in relays:
            for name in (room, f"{room}-shopper"):
                response = requests.delete(
                    f"{relay.internal_url}/rooms/{name}/media", headers=headers, timeout=5
                )
                response.raise_for_status()
    except requests.RequestException:
        log.warning("could not delete the media of room %s at the relay; retried later", room)
        return False
    return True


def delete_rooms(app: Flask, rooms: list[tuple[int, str]]) -> list[int]:
    """Delete each room's media at the relay; mark the ones it confirmed. Returns their ids."""
    if not rooms or not app.config.get("RELAY_INTERNAL_TOKEN"):
        return []  # no relay to ask (a test app): the next run tries again
    done = [live_id for live_id, room in rooms if delete_room_media(app, room)]
    with session_scope(get_engine(app)) as db:
        do_mark_media_purged(db, done)
    return done


def after_erasure(app: Flask, erasure: Erasure) -> None:
    delete_rooms(app, erasure.rooms)


def purge(app: Flask) -> object:
    """The scheduler's ``privacy`` job: each brand's retention, claimed once across nodes."""
    with session_scope(get_engine(app)) as db:
        done = do_purge_due(db, upload_dir=upload_dir(app))
    for result in done:
        delete_rooms(app, result.rooms)
    return len(done)
