"""Live means pushed: no page of the console nor a shopper's waiting screen reads its data
on a timer. Every timer in web/static/js is listed here with what it is for; a new one
fails this test until it is listed, and none of the kept ones reads anything.

(The data comes by Socket.IO: tests/service/test_live_pushed.py. A page reads its state
once when its socket (re)connects: that is an event, not a timer.)
"""

from __future__ import annotations

import re
from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "web" / "static" / "js"
TIMER = re.compile(r"set(?:Interval|Timeout)\(\s*([^\n]{0,80})")

# file -> the start of each timer's callback, and why it may tick.
ALLOWED: dict[str, list[tuple[str, str]]] = {
    "console-presence.js": [("() => { if (Date.now() - lastActive", "heartbeat: a sign of life")],
    "console-inbox.js": [
        ('() => { typing.textContent = ""', "clears a pushed typing indicator"),
        ("() => {", "heartbeat: a sign of life (console_heartbeat, reads nothing)"),
    ],
    "ask.js": [('() => { typing.textContent = ""', "clears a pushed typing indicator")],
    "countdown.js": [("tick, 1000", "a clock")],
    "consult.js": [("tick, 1000", "a clock: the seconds left on each offer")],
    "console-host.js": [
        ("() => {", "the pre-show microphone meter: the local audio, read nothing"),
        ("() => measureUplink()", "the uplink: the browser's own getStats, nothing asked"),
        ("tick, 1000", "a clock: the flash offer's seconds"),
        ("search, 250", "debounce of what the host types"),
    ],
    "show.js": [("tick, 1000", "a clock: the flash offer's seconds"), ("() => {", "a clock")],
    "show-poll.js": [("() => {", "a clock: the open poll's seconds left")],
    # A join refused as busy (a join storm, a database restarting) is tried again once,
    # after the server's Retry-After: the answer to a refusal, not a reading on a clock.
    "live-room.js": [("() => { if (!this._joined", "a refused join, tried again")],
    "shared-bag.js": [("() => fn(...args), ms)", "debounce of the product search typed")],
    "inbox-tools.js": [("() => fn(...args), ms)", "debounce of what the associate types")],
    # The media relay has no socket: ICE gathering's time limit, and the pause between its
    # status reads while the other side's camera is not on yet.
    # The viewer's pauses end early when the room moves to another relay (relay_moved).
    "media.js": [
        ("resolve, ms)", "sleep"),
        ("done, ms)", "the viewer's pause, cut short by moved()"),
        ("resolve, GATHER_TIMEOUT_MS)", "ICE gathering"),
    ],
}
READS = ("refresh", "poll", "fetch", "api(", "load", "resync")


def test_every_timer_is_listed_and_reads_nothing() -> None:
    found: dict[str, list[str]] = {}
    for path in sorted(JS.rglob("*.js")):
        for match in TIMER.finditer(path.read_text()):
            found.setdefault(path.name, []).append(match.group(1))
    for name, timers in found.items():
        allowed = [start for start, _ in ALLOWED.get(name, [])]
        assert len(timers) == len(allowed), f"{name}: timers {timers}, listed {allowed}"
        for timer in timers:
            assert any(timer.startswith(start) for start in allowed), f"{name}: {timer}"
            head = timer.split(",")[0]
            assert not any(word in head for word in READS), f"{name} reads on a timer: {timer}"
    assert set(found) == set(ALLOWED), "a listed file has no timer any more: drop it"
