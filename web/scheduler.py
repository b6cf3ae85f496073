"""The app's scheduler: the timed work of one web node, each job on its own timer.

Jobs: expired reservations give their stock back, flash offers end on time,
talk-now and chat offers nobody answered pass to the next associate (and
waiting requests and threads are routed), appointment e-mails and show reminders go out
when due, and each brand's retention periods are enforced (``privacy``). Every job claims
its rows through the database (a conditional UPDATE, or a claimed reminder),
so any number of nodes may run the same scheduler on one database: each row is
handled once. The app factory builds it and starts it (not under the test
client, where a test starts the jobs it needs); ``stop()`` ends every loop.

Hand-written rather than APScheduler: four fixed-interval loops that must run
as green threads of whichever async mode the node uses (gevent, eventlet,
threading) are a few lines with Flask-SocketIO's own background tasks.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from sessions import bags, scheduled
from sessions.clock import utcnow
from sessions.db import session_scope
from sessions.service import escalation, queue, threads, waitlist
from sessions.service.reminders import run_due_reminders
from web.db import get_engine
from web.extensions import socketio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    period_setting: str  # the config key of its period, in seconds (0: the job is off)
    default_period: float
    run: Callable[[Flask], object]


def release_reservations(app: Flask) -> object:
    """Expired reservations return their stock even if nobody reads the bag."""
    with session_scope(get_engine(app)) as db:
        return bags.do_release_expired(db)


def end_offers(app: Flask) -> object:
    with session_scope(get_engine(app)) as db:
        return scheduled.do_end_due_offers(db)


def route_queue(app: Flask) -> object:
    """Offers nobody accepted in time pass on; waiting requests and chat threads get an
    associate (one engine); threads waiting past the brand's wait get the automatic answer;
    video requests unanswered in time lapse."""
    from web.service.services import accept_seconds

    with session_scope(get_engine(app)) as db:
        made = queue.route_all(db, accept_seconds=accept_seconds(app))
        made += threads.route_all(db, accept_seconds=accept_seconds(app))
        threads.do_answer_overdue(db)
        escalation.do_lapse_due(db)  # "Show me on camera" unanswered: both sides told
        return made


def send_reminders(app: Flask) -> object:
    from web.auth.mails import send_staff_mails
    from web.service.services import links, mailer, send_signin_links

    sent = run_due_reminders(get_engine(app), mailer(app), utcnow(), links(app))
    sent += send_staff_mails(app)  # staff invitations and password resets
    return sent + send_signin_links(app)  # the returning shoppers' sign-in links too


def pass_waitlist_holds(app: Flask) -> object:
    """Slots held for a shopper of the waitlist past their time pass to the next in line."""
    with session_scope(get_engine(app)) as db:
        passed = waitlist.do_pass_lapsed_holds(db)
    if passed:  # the next one's "held for you" e-mail goes now, not at the next reminder run
        send_reminders(app)
    return passed


def send_show_reminders(app: Flask) -> object:
    """Remind me: confirmations, "starts soon" at the brand's lead time, "we are live"."""
    from web.shows import send_due_show_mails

    return send_due_show_mails(app)


def close_polls(app: Flask) -> object:
    """A show's polls close at their end, on whichever node claims each first."""
    from sessions.shows.polls import do_close_due_polls

    with session_scope(get_engine(app)) as db:
        return do_close_due_polls(db)


def purge_retention(app: Flask) -> object:
    """Each brand's retention: old chat, consultation recordings and snapshots, guests."""
    from web.privacy import purge

    return purge(app)


def move_from_dead_relays(app: Flask) -> object:
    """Sessions whose relay stopped its heartbeat go to a live one; their rooms are told."""
    from sessions.relays import do_reassign_lapsed
    from web.relays import directory_of

    directory = directory_of(app)
    if directory is None:
        return []  # one relay: nowhere else to go
    relays = directory.live()
    with session_scope(get_engine(app)) as db:
        return do_reassign_lapsed(db, relays)


JOBS = (
    Job("reservations", "RESERVATION_SWEEP_SECONDS", 30, release_reservations),
    Job("offers", "OFFER_TICK_SECONDS", 0.5, end_offers),
    Job("queue", "QUEUE_TICK_SECONDS", 2, route_queue),
    Job("reminders", "REMINDER_INTERVAL_SECONDS", 30, send_reminders),
    Job("show_reminders", "SHOW_REMINDER_INTERVAL_SECONDS", 30, send_show_reminders),
    Job("polls", "POLL_TICK_SECONDS", 1, close_polls),
    Job("waitlist", "WAITLIST_TICK_SECONDS", 30, pass_waitlist_holds),
    Job("privacy", "PRIVACY_PURGE_SECONDS", 3600, purge_retention),
    Job("relays", "RELAY_HEARTBEAT_SECONDS", 2, move_from_dead_relays),
)


class Scheduler:
    """Runs each job every period until stopped; a failing run is logged and retried."""

    def __init__(self, app: Flask, jobs: tuple[Job, ...] = JOBS) -> None:
        self.app = app
        self.jobs = {job.name: job for job in jobs}
        self._stop = threading.Event()  # patched to a green event under gevent and eventlet
        self._running: set[str] = set()
        self.runs: Counter[str] = Counter()  # finished runs per job, failed ones included
        self._ran = threading.Condition()

    def start(self, *names: str) -> None:
        """Start the named jobs (every job when none is named); a started job is not doubled."""
        for name in names or tuple(self.jobs):
            job = self.jobs[name]
            period = float(self.app.config.get(job.period_setting, job.default_period))
            if name in self._running or period <= 0:
                continue
            self._running.add(name)
            socketio.start_background_task(self._loop, job, period)

    def stop(self) -> None:
        self._stop.set()

    def wait_for_runs(self, name: str, count: int, timeout: float = 20.0) -> bool:
        """Block until job `name` has finished `count` runs (a test's way to await a tick)."""
        with self._ran:
            return self._ran.wait_for(lambda: self.runs[name] >= count, timeout=timeout)

    def _loop(self, job: Job, period: float) -> None:
        while not self._stop.wait(period):
            try:
                job.run(self.app)
            except Exception:  # one bad run must not end the job
                log.exception("scheduled job %s failed; it runs again in %ss", job.name, period)
            with self._ran:
                self.runs[job.name] += 1
                self._ran.notify_all()


def init_app(app: Flask) -> Scheduler:
    scheduler = Scheduler(app)
    app.extensions["vitrine.scheduler"] = scheduler
    if app.config.get("SCHEDULER", True) and not app.config.get("TESTING"):
        scheduler.start()
    return scheduler


def scheduler_of(app: Flask) -> Scheduler:
    found: Scheduler = app.extensions["vitrine.scheduler"]
    return found


def stop(app: Flask) -> None:
    """Stop the app's scheduler (an app shutting down, a test ending)."""
    found = app.extensions.get("vitrine.scheduler")
    if found is not None:
        found.stop()
