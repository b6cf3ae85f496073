"""Which relay carries a live session's media: least loaded at first, then sticky.

A show's or consultation's rooms (its cameras, ``<room>`` and ``<room>-shopper``) live on
one relay, chosen the first time anyone asks for a media grant and stored on the session,
so every web node hands out the same relay. When that relay stops sending its heartbeat,
the sessions it carried move to the least loaded live relay and their room is told
(``relay_moved``): publishers and viewers ask for a new grant, which names the new relay.
Which relays are live, and how loaded, is the caller's to say (web/relays.py reads
the registry); nothing here does I/O but the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from sessions.events import publish
from sessions.models import LiveSession, SessionStatus

# A room (its publisher decoded, each rendition encoded once) costs the relay about what
# this many viewers (one SRTP send each per packet) cost: streaming/fanout.py's split.
ROOM_WEIGHT = 5
# A relay past this share of one core is chosen only when every relay is.
BUSY_CPU = 0.85


def registry_keys(prefix: str) -> tuple[str, str]:
    """Where relays register in Redis (streaming/registry.py writes, web/relays.py reads):
    a sorted set of relay ids scored by when each registration lapses (epoch ms), and one
    key per relay, ``<prefix>:relay:<id>``, holding its JSON with the same expiry."""
    return f"{prefix}:relays", f"{prefix}:relay:"


@dataclass(frozen=True)
class RelayInfo:
    """One live relay, as it registered itself: where browsers and web nodes reach it
    and its load at its last heartbeat (``cpu``: its process's share of one core)."""

    id: str
    url: str
    internal_url: str
    rooms: int = 0
    peers: int = 0
    cpu: float = 0.0

    def load_key(self) -> tuple[bool, int, float, str]:
        return (self.cpu >= BUSY_CPU, self.rooms * ROOM_WEIGHT + self.peers, self.cpu, self.id)


def least_loaded(relays: Iterable[RelayInfo]) -> RelayInfo | None:
    """The relay a new session should go to, or None when none is live."""
    return min(relays, key=RelayInfo.load_key, default=None)


def do_assign_relay(
    db: Session, live: LiveSession, relays: Sequence[RelayInfo]
) -> RelayInfo | None:
    """The session's relay: the one it has if that relay is live, else the least loaded,
    stored with a conditional UPDATE so two nodes asking at once agree on one relay.
    None: no relay is live (the caller falls back to its configured relay)."""
    by_id = {relay.id: relay for relay in relays}
    if live.relay_id in by_id:
        return by_id[live.relay_id]
    choice = least_loaded(relays)
    if choice is None:
        return None
    assert live.id is not None
    before = live.relay_id
    claimed = _move(db, live.id, before, choice.id)
    db.refresh(live)
    stored, room = live.relay_id, live.room
    db.commit()  # the read's transaction ends here (on SQLite it would hold the file)
    if claimed and before is not None:
        # Its relay lapsed and this grant noticed first: the others in the room are told.
        publish("relay_moved", room, relay_url=choice.url)
    # Another node assigned it first: theirs holds.
    return by_id.get(stored or "", choice)


def _move(db: Session, live_id: int, before: str | None, after: str) -> bool:
    """Set the session's relay unless another node changed it since it was read."""
    column = col(LiveSession.relay_id)
    result = db.exec(
        update(LiveSession)
        .where(col(LiveSession.id) == live_id)
        .where(column.is_(None) if before is None else column == before)
        .values(relay_id=after)
    )
    db.commit()
    return bool(result.rowcount)


def do_reassign_lapsed(db: Session, relays: Sequence[RelayInfo]) -> list[str]:
    """Sessions not ended whose relay is not live move to the least loaded live relay, one
    conditional UPDATE each (any number of nodes may run this: each move happens once,
    and only the node that made it tells the room). Returns the rooms moved."""
    live_ids = {relay.id for relay in relays}
    if not live_ids:
        return []  # nowhere to go: leave them, a relay that comes back keeps its rooms
    stranded = db.exec(
        select(LiveSession)
        .where(col(LiveSession.relay_id).is_not(None))
        .where(col(LiveSession.relay_id).not_in(live_ids))
        .where(col(LiveSession.status) != SessionStatus.ENDED)
    ).all()
    moved: list[str] = []
    # Count what this run places, so many stranded rooms spread over the live relays.
    placed = {relay.id: 0 for relay in relays}
    for live in stranded:
        choice = min(relays, key=lambda r: _with_placed(r, placed[r.id]).load_key())
        assert live.id is not None
        if _move(db, live.id, live.relay_id, choice.id):
            placed[choice.id] += 1
            moved.append(live.room)
            publish("relay_moved", live.room, relay_url=choice.url)
    return moved


def _with_placed(relay: RelayInfo, placed: int) -> RelayInfo:
    return RelayInfo(
        relay.id, relay.url, relay.internal_url, relay.rooms + placed, relay.peers, relay.cpu
    )
