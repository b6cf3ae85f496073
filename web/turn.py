"""The ICE part of a media grant: the configured servers, plus TURN credentials minted for
this grant's holder (coturn's REST scheme, sessions/turn.py)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app

from sessions.turn import ice_servers


def grant_ice(identity: str) -> dict[str, Any]:
    """`ice_servers` and `ice_transport_policy` for a grant's response."""
    config = current_app.config
    return {
        "ice_servers": ice_servers(
            config["ICE_SERVERS"],
            turn_urls=config["TURN_URLS"],
            turn_secret=config["TURN_SECRET"],
            ttl_seconds=config["TURN_TTL_SECONDS"],
            # A viewer not yet a shopper is "anonymous": give its credential a name of its own.
            identity=f"guest-{secrets.token_hex(6)}" if identity == "anonymous" else identity,
        ),
        "ice_transport_policy": config["ICE_TRANSPORT_POLICY"],
    }
