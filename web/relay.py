"""What the web node asks the media relay directly, server to server."""

from __future__ import annotations

import logging

import requests
from flask import current_app

from sessions.grants import issue_grant

log = logging.getLogger(__name__)


def end_room(room: str) -> str | None:
    """End the room at the relay and return the public URL of its recording, if any.

    The relay may be down or the show may never have had a picture: then there is
    simply no replay, and ending the show still succeeds.
    """
    config = current_app.config
    grant = issue_grant(config["MEDIA_GRANT_SECRET"], room=room, role="publish", identity="web")
    try:
        response = requests.post(
            f"{config['RELAY_INTERNAL_URL']}/rooms/{room}/end",
            headers={"Authorization": f"Bearer {grant}"},
            timeout=5,
        )
        response.raise_for_status()
        recording = response.json().get("recording")
    except (requests.RequestException, ValueError):
        log.warning("could not end room %s at the relay; no replay kept", room)
        return None
    return f"{config['RELAY_URL']}{recording}" if isinstance(recording, str) else None
