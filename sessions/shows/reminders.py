"""Remind me: a shopper leaves an e-mail address on an upcoming show and is written to
three times — at once (a confirmation with the show's .ics), the brand's
``show_reminder_minutes`` before the start (with the .ics again), and when the host goes
live ("we are live"). Each e-mail has an unsubscribe link (a signed token).

Every such e-mail is a ``ShowReminderMail`` row. Whoever sends it first claims it with
``UPDATE ... SET claimed_at WHERE claimed_at IS NULL`` (the pattern of the appointment
reminders): only one process's update matches, so two web nodes running the scheduler's
``show_reminders`` job, and a node flushing right after a host went live, never send one
twice. A send that fails releases its claim, so none is lost; a claim left by a process
that died mid-send is taken back after STALE_CLAIM (sessions/outbox.py does the claiming
for every such e-mail); the Message-ID is derived from the row, so that rare resend
shows as one message. When a mail is due is read from the show and its brand each time
(never stored): a show moved to another time, or a brand that changes its lead time, is
followed as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sessions import outbox
from sessions.access import Actor, access_see_show, access_show_invitee
from sessions.accounts import normalise_email
from sessions.brand_texts import localised
from sessions.clock import utcnow
from sessions.errors import Conflict, Forbidden, NotFound
from sessions.i18n import N_, format_moment, language_or_default, translator
from sessions.mail import Mailer, one_line, tag_language
from sessions.models import (
    Brand,
    Show,
    ShowMailKind,
    ShowReminder,
    ShowReminderMail,
    ShowStatus,
    Store,
)
from sessions.ratelimit import RateLimiter
from sessions.shows.calendar import show_calendar, show_zone

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
MAX_LEAD = timedelta(minutes=24 * 60)  # the longest show_reminder_minutes a brand may set
_TOKEN_SALT = "vitrine.show-reminder.unsubscribe"
K = ShowMailKind

# Each request mails the address typed in, so a stranger could make us mail anyone:
# budgets per client address (every request) and per e-mail address (every new mail).
REMINDERS_PER_CLIENT = RateLimiter(
    "show-reminders:client",
    "20 per hour",
    N_("You have asked for many reminders; try again in %(wait)s seconds."),
)
REMINDERS_PER_ADDRESS = RateLimiter(
    "show-reminders:address",
    "5 per hour",
    N_("Several reminders were just asked for this e-mail address; try again in %(wait)s seconds."),
)


@dataclass(frozen=True)
class ShowLinks:
    """How to build the links in the e-mails (no account needed to follow them)."""

    public_url: str
    secret: str

    def show_url(self, brand: Brand, show: Show) -> str:
        return f"{self.public_url.rstrip('/')}/b/{brand.slug}/shows/{show.id}"

    def brand_url(self, brand: Brand) -> str:
        """The brand's home, which lists its shows to come."""
        return f"{self.public_url.rstrip('/')}/b/{brand.slug}"

    def unsubscribe_url(self, reminder: ShowReminder) -> str:
        token = unsubscribe_token(self.secret, reminder)
        return f"{self.public_url.rstrip('/')}/show-reminders/{token}"


def unsubscribe_token(secret: str, reminder: ShowReminder) -> str:
    serializer = URLSafeSerializer(secret, salt=_TOKEN_SALT)
    return str(serializer.dumps({"r": reminder.id, "e": reminder.email}))


def reminder_from_token(db: Session, secret: str, token: str) -> ShowReminder:
    serializer = URLSafeSerializer(secret, salt=_TOKEN_SALT)
    try:
        data = serializer.loads(token)
    except BadSignature:
        raise Forbidden(N_("This link is not valid. Use the link from your e-mail.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("r"), int):
        raise Forbidden(N_("This link is not valid. Use the link from your e-mail."))
    reminder = db.get(ShowReminder, data["r"])
    if reminder is None or reminder.email != data.get("e"):
        raise NotFound(N_("This reminder no longer exists."))
    return reminder


# --- asking, counting, unsubscribing ------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    reminder: ShowReminder
    new: bool  # False: this address had already asked (nothing more is sent)


def _refuse_unless_upcoming(show: Show) -> None:
    if show.status is ShowStatus.LIVE:
        raise Conflict(N_("The show is live now: watch it on its page."), code="show_live")
    if show.status is not ShowStatus.SCHEDULED:
        raise Conflict(N_("This show is not coming up any more."), code="not_upcoming")


def do_ask_reminder(
    db: Session,
    actor: Actor,
    show: Show,
    email: object,
    *,
    client: str | None = None,
    language: str | None = None,
) -> Asked:
    """Remember that ``email`` wants to be reminded of ``show`` and queue its e-mails.

    Asking twice is asking once (the second answer says so and sends nothing); asking
    again after unsubscribing starts over with a new confirmation."""
    access_see_show(actor, show)
    access_show_invitee(actor, show)
    _refuse_unless_upcoming(show)
    address = normalise_email(email if isinstance(email, str) else "")
    if client:
        REMINDERS_PER_CLIENT.hit(client)
    existing = _reminder_of(db, show, address)
    if existing is not None and existing.unsubscribed_at is None:
        db.commit()  # end the read: on SQLite it would hold the write lock
        return Asked(existing, new=False)
    REMINDERS_PER_ADDRESS.hit(address)
    assert show.id is not None
    if existing is not None:  # back after unsubscribing: a fresh confirmation
        existing.unsubscribed_at = None
        existing.created_at = utcnow()
        existing.language = language_or_default(language)
        db.add(existing)
        db.exec(
            update(ShowReminderMail)
            .where(
                col(ShowReminderMail.reminder_id) == existing.id,
                col(ShowReminderMail.kind) == K.CONFIRM,
            )
            .values(sent_at=None, claimed_at=None, attempts=0)
        )
        db.commit()
        return Asked(existing, new=True)
    reminder = ShowReminder(
        show_id=show.id,
        email=address,
        shopper_id=actor.shopper_id,
        language=language_or_default(language),
    )
    db.add(reminder)
    try:
        db.flush()
    except IntegrityError:  # the same address, at the same moment, from another request
        db.rollback()
        again = _reminder_of(db, show, address)
        db.commit()
        assert again is not None
        return Asked(again, new=False)
    assert reminder.id is not None
    db.add_all([ShowReminderMail(reminder_id=reminder.id, kind=kind) for kind in ShowMailKind])
    db.commit()
    return Asked(reminder, new=True)


def _reminder_of(db: Session, show: Show, email: str) -> ShowReminder | None:
    return db.exec(
        select(ShowReminder).where(ShowReminder.show_id == show.id, ShowReminder.email == email)
    ).first()


def do_unsubscribe(db: Session, reminder: ShowReminder) -> ShowReminder:
    """No more e-mail about this show to this address (its pending ones are not sent)."""
    if reminder.unsubscribed_at is None:
        reminder.unsubscribed_at = utcnow()
        db.add(reminder)
        db.commit()
    return reminder


def reminder_counts(db: Session, show_ids: list[int]) -> dict[int, int]:
    """How many addresses want to be reminded of each show (unsubscribed ones not)."""
    if not show_ids:
        return {}
    rows = db.exec(
        select(ShowReminder.show_id, func.count())
        .where(col(ShowReminder.show_id).in_(show_ids), col(ShowReminder.unsubscribed_at).is_(None))
        .group_by(col(ShowReminder.show_id))
    ).all()
    return {show_id: int(count) for show_id, count in rows}


def reminder_count(db: Session, show: Show) -> int:
    assert show.id is not None
    return reminder_counts(db, [show.id]).get(show.id, 0)


# --- when each e-mail is due ---------------------------------------------------------------


def before_due_at(show: Show, minutes: int) -> datetime | None:
    """When the "starts soon" e-mail goes: the brand's lead time before the start."""
    return None if minutes <= 0 else show.starts_at - timedelta(minutes=minutes)


def is_due(
    kind: ShowMailKind, show: Show, reminder: ShowReminder, minutes: int, now: datetime
) -> bool:
    """The confirmation while the show is upcoming; "starts soon" from its time until the
    start (not to whoever asked after that time: the confirmation told them); "we are
    live" while it is live."""
    if reminder.unsubscribed_at is not None:
        return False
    if kind is K.CONFIRM:
        return show.status is ShowStatus.SCHEDULED
    if kind is K.LIVE:
        return show.status is ShowStatus.LIVE
    if kind is K.CANCELLED:
        return show.status is ShowStatus.CANCELLED
    due = before_due_at(show, minutes)
    return (
        show.status is ShowStatus.SCHEDULED
        and due is not None
        and reminder.created_at <= due <= now < show.starts_at
    )


def _pending() -> list[object]:
    return [
        col(ShowReminderMail.sent_at).is_(None),
        col(ShowReminderMail.attempts) < MAX_ATTEMPTS,
        col(ShowReminder.unsubscribed_at).is_(None),
    ]


def due_mail_ids(engine: Engine, now: datetime, limit: int = 500) -> list[int]:
    """The e-mails due by ``now``: confirmations of upcoming shows, "we are live" of live
    ones, and "starts soon" of the shows whose lead time has come (found show by show, so
    a big show's mails that are not due yet never crowd out another's that are)."""
    with Session(engine) as db:
        base = (
            select(ShowReminderMail.id)
            .join(ShowReminder, col(ShowReminder.id) == col(ShowReminderMail.reminder_id))
            .join(Show, col(Show.id) == col(ShowReminder.show_id))
            .where(*_pending(), outbox.unclaimed(ShowReminderMail, now))  # type: ignore[arg-type]
            .order_by(col(ShowReminderMail.id))
            .limit(limit)
        )
        ids = list(
            db.exec(
                base.where(
                    or_(
                        (col(ShowReminderMail.kind) == K.CONFIRM)
                        & (col(Show.status) == ShowStatus.SCHEDULED),
                        (col(ShowReminderMail.kind) == K.LIVE)
                        & (col(Show.status) == ShowStatus.LIVE),
                        (col(ShowReminderMail.kind) == K.CANCELLED)
                        & (col(Show.status) == ShowStatus.CANCELLED),
                    )
                )
            ).all()
        )
        soon = db.exec(
            select(Show, Brand.show_reminder_minutes)
            .join(Brand, col(Brand.id) == col(Show.brand_id))
            .where(
                col(Show.status) == ShowStatus.SCHEDULED,
                col(Show.starts_at) > now,
                col(Show.starts_at) <= now + MAX_LEAD,
            )
        ).all()
        for show, minutes in soon:
            due = before_due_at(show, minutes)
            if due is None or due > now:
                continue
            ids += db.exec(
                base.where(
                    col(ShowReminderMail.kind) == K.BEFORE,
                    col(Show.id) == show.id,
                    col(ShowReminder.created_at) <= due,
                )
            ).all()
    return [i for i in ids if i is not None][:limit]


# --- claiming and sending ------------------------------------------------------------------


def compose(
    db: Session, mail: ShowReminderMail, links: ShowLinks, now: datetime
) -> EmailMessage | None:
    """The e-mail of a mail row, or None if it is not due (any more) at ``now``."""
    reminder = db.get(ShowReminder, mail.reminder_id)
    show = db.get(Show, reminder.show_id) if reminder else None
    brand = db.get(Brand, show.brand_id) if show else None
    if reminder is None or show is None or brand is None:
        return None
    if not is_due(mail.kind, show, reminder, brand.show_reminder_minutes, now):
        return None
    store = db.get(Store, show.store_id) if show.store_id else None
    lang = reminder.language
    return show_message(
        mail.kind,
        show=show,
        title=localised(db, "show", show, "title", lang),
        description=localised(db, "show", show, "description", lang),
        brand=brand,
        reminder=reminder,
        links=links,
        now=now,
        store_timezone=store.timezone if store else None,
    )


def deliver(engine: Engine, mailer: Mailer, mail_id: int, now: datetime, links: ShowLinks) -> bool:
    """Claim, compose and send one e-mail (sessions/outbox.py). True if this call sent it.

    One no longer due (the show moved, the address left) is not sent and not done either:
    its claim is released, for a later run to ask again."""
    return outbox.deliver(
        engine,
        mailer,
        ShowReminderMail,
        mail_id,
        now,
        lambda db, mail: compose(db, mail, links, now),
        lambda mail: f"<show-reminder-{mail.id}@vitrine.local>",
        "show reminder",
        release_if_nothing=True,
        logger=log,
    )


def run_due_show_mails(
    engine: Engine, mailer: Mailer, links: ShowLinks, now: datetime | None = None
) -> int:
    """Send every show e-mail due by ``now``; returns how many this call sent."""
    now = now or utcnow()
    return sum(
        deliver(engine, mailer, mail_id, now, links) for mail_id in due_mail_ids(engine, now)
    )


# --- the messages --------------------------------------------------------------------------


def _when(show: Show, store_timezone: str | None, lang: str) -> str:
    return format_moment(show.starts_at, show_zone(store_timezone).key, lang)


def show_message(
    kind: ShowMailKind,
    *,
    show: Show,
    brand: Brand,
    reminder: ShowReminder,
    links: ShowLinks,
    now: datetime,
    store_timezone: str | None = None,
    title: str | None = None,
    description: str | None = None,
) -> EmailMessage:
    """One e-mail of a reminder, in the language the shopper asked in, with the brand's
    own texts in that language (or its default)."""
    tr = translator(reminder.language)
    _ = tr.gettext
    title = title or show.title
    page = links.show_url(brand, show)
    leave = links.unsubscribe_url(reminder)
    when = _when(show, store_timezone, reminder.language)
    names = {"brand": brand.name, "title": title, "when": when, "page": page}
    if kind is K.CONFIRM:
        minutes = brand.show_reminder_minutes
        subject = _("%(brand)s: we will remind you of %(title)s") % names
        later = (
            _("We will write to you %(minutes)s minutes before it starts and when it goes live.")
            % {"minutes": minutes}
            if minutes
            else _("We will write to you when it goes live.")
        )
        text = (
            _("Hello,")
            + "\n\n"
            + _("The live show “%(title)s” of %(brand)s is on %(when)s.") % names
            + "\n\n"
            + later
            + "\n"
            + _("The show: %(page)s") % names
            + "\n"
        )
    elif kind is K.BEFORE:
        left = max(1, round((show.starts_at - now).total_seconds() / 60))
        lead = tr.ngettext("%(num)s minute", "%(num)s minutes", left) % {"num": left}
        subject = _("%(title)s starts in %(lead)s") % {**names, "lead": lead}
        text = (
            _("Hello,")
            + "\n\n"
            + _("“%(title)s” by %(brand)s starts in %(lead)s (%(when)s).") % {**names, "lead": lead}
            + "\n\n"
            + _("Watch it here: %(page)s") % names
            + "\n"
        )
    elif kind is K.CANCELLED:
        subject = _("Cancelled: %(title)s") % names
        text = (
            _("Hello,")
            + "\n\n"
            + _(
                "We are sorry: the live show “%(title)s” of %(brand)s, planned for %(when)s, "
                "has been cancelled and will not take place."
            )
            % names
            + "\n\n"
            + _("The calendar file attached takes it out of your calendar.")
            + "\n"
            + _("Other shows of %(brand)s: %(url)s") % {**names, "url": links.brand_url(brand)}
            + "\n"
        )
    else:
        subject = _("We are live: %(title)s") % names
        text = (
            _("Hello,")
            + "\n\n"
            + _("%(brand)s is live now with “%(title)s”.") % names
            + "\n\n"
            + _("Watch: %(page)s") % names
            + "\n"
        )
    text += (
        "\n"
        + _("You get this because you asked to be reminded of this show.")
        + "\n"
        + _("No more e-mails about it: %(url)s") % {"url": leave}
        + f"\n\n{brand.name}\n"
    )
    message = EmailMessage()
    message["To"] = Address(addr_spec=reminder.email)
    message["Subject"] = one_line(subject)
    # One click from the mail client (RFC 8058): a POST to the same link.
    message["List-Unsubscribe"] = f"<{leave}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    if kind is not K.LIVE:
        message.add_attachment(
            show_calendar(
                show,
                brand,
                page,
                store_timezone=store_timezone,
                method="PUBLISH",
                language=reminder.language,
                title=title,
                description=description,
            ),
            maintype="text",
            subtype="calendar",
            filename="show.ics",
            params={"method": "PUBLISH"},
        )
    return tag_language(message, reminder.language)
