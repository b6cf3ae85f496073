"""What the web node asks the media relay directly, server to server."""

from __future__ import annotations

import logging

import requests
from flask import current_app

from sessions.access import media_claims
from sessions.grants import issue_grant
from sessions.models import Brand, LiveSession
from sessions.privacy.consent import media_allowed
from web.db import db
from web.relays import relay_of

log = logging.getLogger(__name__)


def grant_claims(live: LiveSession) -> dict[str, bool]:
    """The room's ``public``/``record`` claims for ``issue_grant`` (sessions.access decides)."""
    brand = db().get(Brand, live.brand_id)
    assert brand is not None  # a live session's brand cannot go away (ON DELETE CASCADE)
    # A consultation is recorded only once its shopper said yes (sessions/privacy/consent.py).
    return media_claims(live, brand, media_allowed(db(), live)).grant_claims()


def internal_headers() -> dict[str, str]:
    """The relay's internal routes (full status, metrics, any room's files) want the
    shared token: send it on every server-to-server call."""
    return {"Authorization": f"Bearer {current_app.config['RELAY_INTERNAL_TOKEN']}"}


def end_room(live: LiveSession) -> str | None:
    """End the room at the relay and return the public URL of its recording, if any.

    The relay may be down or the show may never have had a picture: then there is
    simply no replay, and ending the show still succeeds.
    """
    config = current_app.config
    room, relay = live.room, relay_of(live)
    # A publish grant for this one room, spent by the relay: ending needs no more.
    grant = issue_grant(config["MEDIA_GRANT_SECRET"], room=room, role="publish", identity="web")
    try:
        response = requests.post(
            f"{relay.internal_url}/rooms/{room}/end",
            headers={"Authorization": f"Bearer {grant}"},
            timeout=5,
        )
        response.raise_for_status()
        recording = response.json().get("recording")
    except (requests.RequestException, ValueError):
        log.warning("could not end room %s at the relay; no replay kept", room)
        return None
    return f"{relay.url}{recording}" if isinstance(recording, str) else None


def _cohost_call(live: LiveSession, method: str, body: dict[str, object] | None = None) -> bool:
    """Tell the relay about the room's co-host (mute, remove) with a host grant for the
    room. The relay may be down: the row already says it, and the co-host's page, told by
    push, stops publishing; False says the relay did not confirm."""
    config = current_app.config
    room = live.room
    grant = issue_grant(config["MEDIA_GRANT_SECRET"], room=room, role="publish", identity="web")
    try:
        response = requests.request(
            method,
            f"{relay_of(live).internal_url}/rooms/{room}/cohost",
            json=body,
            headers={"Authorization": f"Bearer {grant}"},
            timeout=5,
        )
        response.raise_for_status()
    except requests.RequestException:
        log.warning("could not %s the co-host of room %s at the relay", method, room)
        return False
    return True


def mute_cohost(live: LiveSession, muted: bool) -> bool:
    """The relay stops (or resumes) forwarding the co-host's sound to every viewer."""
    return _cohost_call(live, "POST", {"muted": muted})


def remove_cohost(live: LiveSession) -> bool:
    """The relay closes the co-host's publisher: their picture and sound leave the show."""
    return _cohost_call(live, "DELETE")
