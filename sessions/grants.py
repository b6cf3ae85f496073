"""Short-lived media grants: the web app decides who may publish or view a room,
the relay trusts only what such a grant says.

A grant is ``<payload>.<signature>``: the payload is base64url JSON
``{"room", "role", "identity", "exp", "nonce", "public", "record", "slot"}`` and the signature is
HMAC-SHA256 of the encoded payload with the secret both processes share
(``MEDIA_GRANT_SECRET``). In the manner of LiveKit's access tokens, but with
nothing to install: the relay needs only the standard library to check one.

Pure functions, no I/O: replay protection (a nonce used once) is the relay's
job, since only it sees grants being spent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Literal

Role = Literal["publish", "view"]
ROLES: tuple[Role, ...] = ("publish", "view")
DEFAULT_TTL_SECONDS = 60
# Publishers a show's relay room carries at once: slot 0 is the host's camera, slot 1 a
# co-host's (an associate or an invited guest). A view grant receives every slot.
HOST_SLOT = 0
COHOST_SLOT = 1
PUBLISHER_SLOTS = 2


class GrantError(Exception):
    """A grant that must be refused; ``reason`` is safe to show the caller."""

    def __init__(self, reason: str, *, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Grant:
    room: str
    role: Role
    identity: str
    exp: float
    nonce: str
    # What the web app decided about the room, carried to the relay on the publisher's
    # grant: ``public`` rooms (a public show) may have their HLS, thumbnail and replay
    # served to anyone; every other room's files need a grant for that room. ``record``
    # keeps a recording (shows; a consultation only when the brand turned it on).
    public: bool = False
    record: bool = False
    # Which publisher of the room a publish grant is for (HOST_SLOT or COHOST_SLOT).
    slot: int = HOST_SLOT

    def allows(self, room: str, role: Role) -> bool:
        """A view grant never publishes; a grant for one room opens no other."""
        return self.room == room and self.role == role


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest)


def issue_grant(
    secret: str,
    *,
    room: str,
    role: Role,
    identity: str,
    ttl: float = DEFAULT_TTL_SECONDS,
    now: float | None = None,
    public: bool = False,
    record: bool = False,
    slot: int = HOST_SLOT,
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if not 0 <= slot < PUBLISHER_SLOTS:
        raise ValueError(f"no publisher slot {slot!r}")
    if not secret:
        raise ValueError("a grant secret is required")
    issued = time.time() if now is None else now
    body = {
        "room": room,
        "role": role,
        "identity": identity,
        "exp": issued + ttl,
        "nonce": secrets.token_urlsafe(12),
        "public": bool(public),
        "record": bool(record),
        "slot": slot,
    }
    payload = _b64encode(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_sign(secret, payload)}"


def verify_grant(secret: str, token: str, *, now: float | None = None) -> Grant:
    """Return the grant if its signature holds and it has not expired."""
    try:
        payload, signature = token.split(".")
        # ASCII only: the signature is compared as bytes (a str with other characters
        # would make compare_digest raise, not refuse).
        payload.encode("ascii")
        given = signature.encode("ascii")
    except (ValueError, AttributeError):
        raise GrantError("malformed grant") from None
    if not hmac.compare_digest(_sign(secret, payload).encode("ascii"), given):
        raise GrantError("grant signature does not match")
    try:
        body = json.loads(_b64decode(payload))
        grant = Grant(
            room=str(body["room"]),
            role=body["role"],
            identity=str(body["identity"]),
            exp=float(body["exp"]),
            nonce=str(body["nonce"]),
            public=body.get("public") is True,
            record=body.get("record") is True,
            slot=body.get("slot", HOST_SLOT),
        )
    except (ValueError, KeyError, TypeError):
        raise GrantError("malformed grant") from None
    if grant.role not in ROLES:
        raise GrantError("unknown grant role")
    if type(grant.slot) is not int or not 0 <= grant.slot < PUBLISHER_SLOTS:
        raise GrantError("unknown publisher slot")
    if (time.time() if now is None else now) >= grant.exp:
        raise GrantError("grant expired")
    return grant
