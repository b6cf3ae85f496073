"""Roles × rooms: media grants, bags across brands, consultation admission.

The staff API's matrix (tests/test_access_matrix.py) walks operations; this one walks
the rooms: every kind of person (nobody, a guest, the consultation's shopper, its host,
a colleague, both brands' admins, the platform's admin) against a show and a
consultation of brand A, in each phase of their life. The expected answer of each cell
is written here from the rules (sessions/access.py's docstring), not from the code.
A refused call must change no row; an allowed one must do what it says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sessions.grants import verify_grant
from sessions.models import LiveSession, SessionStatus
from tests.factories import Factory
from tests.security.consultation_world import (
    ADMIN_A,
    ADMIN_B,
    ANONYMOUS,
    COLLEAGUE,
    EVERYONE,
    GUEST,
    HOST,
    PLATFORM,
    SHOPPER,
    World,
    changed_tables,
    consultation,
    make_world,
    snapshot,
)
from web.extensions import socketio

SECRET = "test-media-secret"
# The consultation's hosts: its associate, their brand's admin, the platform's admin.
CONSULTATION_HOSTS = {HOST, ADMIN_A, PLATFORM}
# A show is hosted by any of its brand's staff.
SHOW_HOSTS = {HOST, COLLEAGUE, ADMIN_A, PLATFORM}
NOT_STAFF = {ANONYMOUS, GUEST, SHOPPER}
ROLES = ("publish", "view")
SIDES = ("host", "shopper")  # the host's camera, or a consultation's shopper's


@pytest.fixture
def world(app: Flask, factory: Factory, session: Session) -> World:
    return make_world(app, factory, session)


@pytest.fixture
def sockets() -> Iterator[list[SocketIOTestClient]]:
    made: list[SocketIOTestClient] = []
    yield made
    for sio in made:
        if sio.is_connected():
            sio.disconnect()


# --- media grants -------------------------------------------------------------------


def show_grant(who: str, role: str, side: str) -> int:
    """A show: one camera, the host's; hosts publish it, anyone views it."""
    if side == "shopper":
        return 422
    if role == "view" or who in SHOW_HOSTS:
        return 200
    return 401 if who in NOT_STAFF else 403


def consultation_grant(who: str, phase: str, role: str, side: str) -> int:
    """A consultation: each side publishes its own camera and views the other's; the
    shopper gets nothing before being admitted; nobody gets anything once it ended."""
    if who not in CONSULTATION_HOSTS and who != SHOPPER:
        return 403
    if phase == "ended":
        return 403
    own = "host" if who in CONSULTATION_HOSTS else "shopper"
    if (role == "publish") != (side == own):
        return 403
    if own == "shopper" and phase != "admitted":
        return 403
    return 200


@dataclass
class GrantCall:
    url: str
    body: dict[str, str]
    room: str  # the relay room the grant must be for


def grant_calls(live: LiveSession, role: str, side: str) -> list[GrantCall]:
    """The same request through each endpoint that answers grants."""
    room = live.room + ("-shopper" if side == "shopper" else "")
    calls = [
        GrantCall(
            f"/api/live-sessions/{live.id}/media-grant",
            {"role": role, "room_suffix": "shopper" if side == "shopper" else ""},
            room,
        )
    ]
    if live.kind.value == "consultation":
        calls.append(
            GrantCall(
                f"/api/consultations/{live.id}/media-grant",
                {"role": role, "side": "shopper" if side == "shopper" else "associate"},
                room,
            )
        )
    return calls


def walk_grants(world: World, live: LiveSession, expected: Callable[[str, str, str], int]) -> None:
    wrong = []
    for who in EVERYONE:
        for role in ROLES:
            for side in SIDES:
                want = expected(who, role, side)
                for call in grant_calls(live, role, side):
                    answer = world.as_(who).post(call.url, json=call.body)
                    got = answer.status_code
                    if got == 200:
                        grant = verify_grant(SECRET, answer.json["grant"])
                        if (grant.room, grant.role) != (call.room, role):
                            got = -1  # a grant, but for the wrong room or role
                    elif "grant" in (answer.json or {}):
                        got = -2  # refused, yet a grant came back
                    if got != want:
                        wrong.append(f"{who} {role} {side} {call.url}: {got}, want {want}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("phase", ["scheduled", "live"])
def test_show_media_grants(phase: str, world: World, session: Session) -> None:
    if phase == "live":
        started = world.as_(HOST).post(f"/api/shows/{world.show_id}/start")
        assert started.status_code == 200, started.json
    live = session.get(LiveSession, world.show_live_id)
    assert live is not None
    session.commit()
    walk_grants(world, live, show_grant)
    # A show has no consultation endpoint.
    for who in EVERYONE:
        body = {"role": "view", "side": "associate"}
        url = f"/api/consultations/{world.show_live_id}/media-grant"
        assert world.as_(who).post(url, json=body).status_code == 404, who


def reach_phase(world: World, phase: str) -> None:
    """waiting: the shopper is in the waiting room; admitted: let in; ended: over."""
    steps = [(SHOPPER, "arrive")]
    steps += {
        "waiting": [],
        "admitted": [(HOST, "admit")],
        "ended": [(HOST, "admit"), (HOST, "end")],
    }[phase]
    for who, action in steps:
        answer = world.as_(who).post(f"/api/consultations/{world.consultation_id}/{action}")
        assert answer.status_code == 200, (action, answer.json)


@pytest.mark.parametrize("phase", ["waiting", "admitted", "ended"])
def test_consultation_media_grants(phase: str, world: World, session: Session) -> None:
    reach_phase(world, phase)
    live = consultation(session, world)
    walk_grants(world, live, lambda who, role, side: consultation_grant(who, phase, role, side))


# --- bags across brands ---------------------------------------------------------------


def fill_bags(world: World) -> dict[str, int]:
    """The consultation's shopper has a line at brand A and one at brand B: their ids."""
    lines = {}
    for brand, variant_id in (("a", world.variant_a), ("b", world.variant_b)):
        added = world.as_(SHOPPER).post("/api/bag/lines", json={"variant_id": variant_id})
        assert added.status_code == 201, added.json
        lines[brand] = added.json["bag"]["lines"][0]["id"]
    return lines


def bag_read(who: str, brand: str, via_consultation: bool) -> tuple[int, bool]:
    """(status, sees the shopper's line) for GET /api/bag at a brand, with or without
    naming brand A's consultation with that shopper."""
    if who == SHOPPER:
        return 200, True  # their own bag, wherever
    if not via_consultation:
        return 200, False  # one's own bag: staff and other guests have none
    if who == GUEST:
        return 200, False  # naming a consultation one is not in still gives one's own bag
    if who in (ANONYMOUS, COLLEAGUE, ADMIN_B):
        return 403, False
    if who == PLATFORM:
        return 200, True
    # The consultation's host and their admin: the shared bag at the consultation's brand only.
    return (200, True) if brand == "a" else (403, False)


def test_bag_reads_across_brands(world: World, engine: Engine) -> None:
    fill_bags(world)
    names = {"a": world.product_a.name, "b": world.product_b.name}
    brand_ids = {"a": world.brand_a.id, "b": world.brand_b.id}
    before = snapshot(engine)
    wrong = []
    for who in EVERYONE:
        for brand in ("a", "b"):
            for via in (False, True):
                url = f"/api/bag?brand_id={brand_ids[brand]}"
                if via:
                    url += f"&live_session_id={world.consultation_id}"
                answer = world.as_(who).get(url)
                got = (answer.status_code, names[brand] in answer.get_data(as_text=True))
                other = names["b" if brand == "a" else "a"]
                if got != bag_read(who, brand, via) or other in answer.get_data(as_text=True):
                    wrong.append(f"{who} brand {brand} via={via}: {got}")
    assert wrong == [], "\n".join(wrong)
    # Reading released nothing, made nothing (no reservation has expired).
    assert changed_tables(before, snapshot(engine)) == []


def test_bag_lines_are_removed_only_by_their_shopper_or_brand(world: World, engine: Engine) -> None:
    lines = fill_bags(world)
    before = snapshot(engine)
    for brand, line_id in lines.items():
        for who in (ANONYMOUS, GUEST, HOST, COLLEAGUE, ADMIN_A if brand == "b" else ADMIN_B):
            answer = world.as_(who).delete(f"/api/bag/lines/{line_id}")
            assert answer.status_code == 403, (who, brand, answer.json)
    assert changed_tables(before, snapshot(engine)) == [], "a refused removal changed rows"
    removed = world.as_(SHOPPER).delete(f"/api/bag/lines/{lines['b']}")
    assert removed.status_code == 200 and removed.json["lines"] == []
    assert world.as_(SHOPPER).get(f"/api/bag?brand_id={world.brand_a.id}").json["count"] == 1


def test_the_consultation_room_socket_shows_its_own_brands_bag(
    world: World, app: Flask, sockets: list[SocketIOTestClient]
) -> None:
    fill_bags(world)
    for who in EVERYONE:
        sio = socketio.test_client(app, flask_test_client=world.as_(who))
        sockets.append(sio)
        ack: Any = sio.emit("join", {"session_id": world.consultation_id}, callback=True)
        if who in CONSULTATION_HOSTS or who == SHOPPER:
            assert ack["ok"] is True, (who, ack)
            names = [line["name"] for line in ack["state"]["bag"]["lines"]]
            assert names == [world.product_a.name], (who, names)
        else:
            assert ack["ok"] is False and ack["error"] == "forbidden", (who, ack)


# --- admission: arrive, admit, end, transfer --------------------------------------------


def _arrived(live: LiveSession, world: World) -> bool:
    return live.shopper_arrived_at is not None


def _admitted(live: LiveSession, world: World) -> bool:
    return live.status is SessionStatus.LIVE


def _ended(live: LiveSession, world: World) -> bool:
    return live.status is SessionStatus.ENDED


def _transferred(live: LiveSession, world: World) -> bool:
    return live.associate_id == world.colleague.id


ADMISSION: dict[str, Callable[[LiveSession, World], bool]] = {
    "arrive": _arrived,
    "admit": _admitted,
    "end": _ended,
    "transfer": _transferred,
}


def admission_refusal(action: str, who: str) -> int:
    """arrive is the shopper's (anyone else: 403); the rest are the hosts' (staff only)."""
    if action == "arrive" or who not in NOT_STAFF:
        return 403
    return 401


ADMISSION_CASES = [("arrive", SHOPPER)] + [
    (action, who) for action in ("admit", "end", "transfer") for who in sorted(CONSULTATION_HOSTS)
]


@pytest.mark.parametrize(("action", "allowed"), ADMISSION_CASES)
def test_consultation_admission(
    action: str, allowed: str, world: World, session: Session, engine: Engine
) -> None:
    url = f"/api/consultations/{world.consultation_id}/{action}"
    body = {"associate_id": world.colleague.id} if action == "transfer" else None
    may = {SHOPPER} if action == "arrive" else CONSULTATION_HOSTS
    before = snapshot(engine)
    for who in EVERYONE:
        if who in may:
            continue
        answer = world.as_(who).post(url, json=body)
        want = admission_refusal(action, who)
        assert answer.status_code == want, (who, answer.status_code, answer.json)
    assert changed_tables(before, snapshot(engine)) == [], "a refused call changed rows"
    assert not ADMISSION[action](consultation(session, world), world)
    answer = world.as_(allowed).post(url, json=body)
    assert answer.status_code == 200, answer.json
    assert ADMISSION[action](consultation(session, world), world), f"{action} did not happen"
