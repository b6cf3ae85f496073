"""E-mail: SMTP delivery (smtplib) and the messages consultations send, with .ics invitations.

The invitation carries the start in the store's own zone (DTSTART;TZID=...
with its VTIMEZONE), so a calendar shows the right hour wherever the shopper
is; the join link is in the description, the URL and LOCATION fields.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from sessions.i18n import format_moment, language_or_default, translator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 25
    user: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = "Vitrine <no-reply@vitrine.local>"
    timeout: float = 15.0

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> SmtpSettings:
        """From the web app's config or the environment (same variable names)."""
        return cls(
            host=str(config.get("SMTP_HOST", "") or ""),
            port=int(config.get("SMTP_PORT", 25) or 25),
            user=str(config.get("SMTP_USER", "") or ""),
            password=str(config.get("SMTP_PASSWORD", "") or ""),
            starttls=str(config.get("SMTP_STARTTLS", "")).lower() in {"1", "true", "yes", "on"},
            sender=str(config.get("MAIL_FROM") or cls.sender),
        )


class Mailer:
    """Sends messages over SMTP. With no host configured it logs them (development)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        if "From" not in message:
            message["From"] = self.settings.sender
        if "Date" not in message:
            message["Date"] = formatdate(localtime=False)
        if "Message-ID" not in message:
            message["Message-ID"] = make_msgid(domain="vitrine.local")
        if not self.settings.host:
            log.info("SMTP_HOST unset; not sending %r to %s", message["Subject"], message["To"])
            return
        with smtplib.SMTP(
            self.settings.host, self.settings.port, timeout=self.settings.timeout
        ) as smtp:
            if self.settings.starttls:
                smtp.starttls()
            if self.settings.user:
                smtp.login(self.settings.user, self.settings.password)
            # Envelope recipients are the header's parsed addresses: exactly those the
            # Address objects above put there, nothing a display name could add.
            smtp.send_message(message)


def mailer_from_config(config: Mapping[str, Any]) -> Mailer:
    """A mailer from the app's config (or os.environ): SMTP_HOST, SMTP_PORT, ..., MAIL_FROM."""
    return Mailer(SmtpSettings.from_mapping(config))


@dataclass(frozen=True)
class Invitation:
    """Everything the messages about one appointment need, already resolved."""

    uid: str
    brand_name: str
    associate_name: str
    store_name: str
    store_timezone: str
    shopper_name: str
    shopper_email: str
    shopper_timezone: str
    starts_at: datetime
    ends_at: datetime
    join_url: str
    manage_url: str
    sequence: int = 0
    # The shopper's language (the booking's): the e-mails and the .ics are written in it.
    language: str = "en"


def _local(when: datetime, zone: str, lang: str = "en") -> str:
    """A moment in a zone, as the reader's language writes it, with the zone's name."""
    return format_moment(when, zone, lang)


def build_ics(invite: Invitation, *, cancelled: bool = False) -> bytes:
    _ = translator(invite.language).gettext
    names = {"brand": invite.brand_name, "associate": invite.associate_name}
    cal = Calendar()
    cal.add("prodid", "-//Vitrine//Consultations//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    zone = ZoneInfo(invite.store_timezone)
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", datetime.now(ZoneInfo("UTC")))
    event.add("dtstart", invite.starts_at.astimezone(zone))
    event.add("dtend", invite.ends_at.astimezone(zone))
    event.add("summary", _("%(brand)s: video consultation with %(associate)s") % names)
    event.add(
        "description",
        _("Join your consultation: %(url)s") % {"url": invite.join_url}
        + "\n"
        + _("Reschedule or cancel: %(url)s") % {"url": invite.manage_url},
    )
    event.add("location", invite.join_url)
    event.add("url", invite.join_url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    attendee = vCalAddress(f"mailto:{invite.shopper_email}")
    attendee.params["cn"] = vText(invite.shopper_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def one_line(text: str) -> str:
    """A header-safe line: CR, LF and other whitespace runs become one space."""
    return " ".join(text.split())


def recipient(name: str, email: str) -> Address:
    """The To address of a shopper, built as an object, never by pasting strings.

    A name typed as ``victim@x, Camille`` is only a display name here: the
    header becomes ``"victim@x, Camille" <camille@...>`` (quoted), one recipient.
    Address() also refuses an e-mail that is not one addr-spec (ValueError).
    """
    return Address(display_name=one_line(name)[:120], addr_spec=email)


def _addressed(to: Address, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = one_line(subject)
    return message


def tag_language(message: EmailMessage, lang: str | None) -> EmailMessage:
    """Content-Language, once the body is complete (setting the content drops Content-*)."""
    del message["Content-Language"]
    message["Content-Language"] = language_or_default(lang).replace("_", "-")
    return message


def _message(invite: Invitation, subject: str, text: str) -> EmailMessage:
    message = _addressed(recipient(invite.shopper_name, invite.shopper_email), subject)
    message.set_content(text)
    return tag_language(message, invite.language)


def _when(invite: Invitation, at: datetime | None = None) -> str:
    """When, in the shopper's zone, and in the store's too when it differs."""
    at = at or invite.starts_at
    _ = translator(invite.language).gettext
    line = _local(at, invite.shopper_timezone, invite.language)
    if invite.shopper_timezone != invite.store_timezone:
        store = _local(at, invite.store_timezone, invite.language)
        line += "\n" + _("(at the store: %(when)s)") % {"when": store}
    return line


def _names(invite: Invitation) -> dict[str, str]:
    return {
        "name": invite.shopper_name,
        "brand": invite.brand_name,
        "associate": invite.associate_name,
        "store": invite.store_name,
        "when": _when(invite),
        "join": invite.join_url,
        "manage": invite.manage_url,
    }


def _hello(invite: Invitation) -> str:
    _ = translator(invite.language).gettext
    return _("Hello %(name)s,") % {"name": invite.shopper_name} + "\n\n"


def confirmation_message(invite: Invitation) -> EmailMessage:
    _ = translator(invite.language).gettext
    names = _names(invite)
    text = (
        _hello(invite)
        + _("Your video consultation with %(associate)s (%(store)s) is booked for\n%(when)s.")
        % names
        + "\n\n"
        + _("Join at the time: %(join)s") % names
        + "\n"
        + _("Reschedule or cancel: %(url)s") % {"url": invite.manage_url}
        + f"\n\n{invite.brand_name}\n"
    )
    message = _message(invite, _("Your consultation with %(brand)s is booked") % names, text)
    _attach_ics(message, build_ics(invite))
    return message


def reminder_message(invite: Invitation, kind: str) -> EmailMessage:
    _ = translator(invite.language).gettext
    names = _names(invite)
    if kind == "24h":
        starts = _("Your consultation with %(associate)s starts tomorrow,") % names
        subject = _("Reminder: your consultation starts tomorrow")
    elif kind == "15m":
        starts = _("Your consultation with %(associate)s starts in 15 minutes,") % names
        subject = _("Reminder: your consultation starts in 15 minutes")
    else:
        starts = _("Your consultation with %(associate)s starts soon,") % names
        subject = _("Reminder: your consultation starts soon")
    text = (
        _hello(invite)
        + starts
        + f"\n{names['when']}.\n\n"
        + _("Join: %(join)s") % names
        + "\n"
        + _("Reschedule or cancel: %(url)s") % {"url": invite.manage_url}
        + f"\n\n{invite.brand_name}\n"
    )
    message = _message(invite, subject, text)
    _attach_ics(message, build_ics(invite))
    return message


def moved_message(invite: Invitation) -> EmailMessage:
    _ = translator(invite.language).gettext
    names = _names(invite)
    text = (
        _hello(invite)
        + _("Your consultation with %(associate)s now takes place\n%(when)s.") % names
        + "\n\n"
        + _("Join: %(join)s") % names
        + "\n"
        + _("Reschedule or cancel: %(url)s") % {"url": invite.manage_url}
        + f"\n\n{invite.brand_name}\n"
    )
    message = _message(invite, _("Your consultation has a new time"), text)
    _attach_ics(message, build_ics(invite))
    return message


def cancelled_message(invite: Invitation, *, by_associate: bool, reason: str) -> EmailMessage:
    _ = translator(invite.language).gettext
    names = _names(invite)
    if by_associate:
        opening = _("%(associate)s had to cancel your consultation of\n%(when)s.") % names
        if reason:
            opening += "\n\n" + _("Their message: %(reason)s") % {"reason": reason}
    else:
        opening = _("Your consultation of\n%(when)s\nis cancelled, as you asked.") % names
    text = f"{_hello(invite)}{opening}\n\n{invite.brand_name}\n"
    message = _message(invite, _("Your consultation is cancelled"), text)
    _attach_ics(message, build_ics(invite, cancelled=True))
    return message


def waitlist_message(invite: Invitation, book_url: str) -> EmailMessage:
    _ = translator(invite.language).gettext
    names = _names(invite)
    text = (
        _hello(invite)
        + _("An earlier time has opened with %(associate)s. Your current booking is %(when)s.")
        % names
        + "\n\n"
        + _("Move it: %(manage)s") % names
        + "\n"
        + _("See all times: %(url)s") % {"url": book_url}
        + f"\n\n{invite.brand_name}\n"
    )
    return _message(invite, _("An earlier consultation time is free"), text)


def waitlist_hold_message(
    invite: Invitation, *, held_start: datetime, held_until: datetime, take_url: str
) -> EmailMessage:
    """An earlier time held for the shopper: the link takes it in one step."""
    _ = translator(invite.language).gettext
    names = _names(invite)
    held = _when(invite, held_start)
    until = _local(held_until, invite.shopper_timezone, invite.language)
    text = (
        _hello(invite)
        + _("An earlier time has opened with %(associate)s, and we are holding it for you:") % names
        + f"\n{held}.\n\n"
        + _(
            "It is yours if you take it before %(until)s; after that it goes to the next "
            "person waiting."
        )
        % {"until": until}
        + "\n\n"
        + _("Take this time (your booking moves there): %(url)s") % {"url": take_url}
        + "\n\n"
        + _("Your current booking stays as it is otherwise:\n%(when)s.") % names
        + "\n"
        + _("Manage it: %(manage)s") % names
        + f"\n\n{invite.brand_name}\n"
    )
    return _message(invite, _("An earlier consultation time is held for you"), text)


def answer_message(
    *,
    brand_name: str,
    name: str,
    email: str,
    question: str,
    answer: str,
    associate: str,
    language: str | None = None,
) -> EmailMessage:
    _ = translator(language).gettext
    subject = _("%(brand)s has answered your message") % {"brand": brand_name}
    message = _addressed(recipient(name, email), subject)
    quoted = "\n".join(f"> {line}" for line in question.splitlines())
    message.set_content(
        _("Hello %(name)s,") % {"name": name}
        + f"\n\n{answer}\n\n{associate}, {brand_name}\n\n"
        + _("You wrote:")
        + f"\n{quoted}\n"
    )
    return tag_language(message, language)


def _attach_ics(message: EmailMessage, ics: bytes) -> None:
    language = message["Content-Language"]
    message.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        filename="consultation.ics",
        params={"method": "REQUEST"},
    )
    tag_language(message, language)


def signin_message(
    *, brand_name: str, email: str, url: str, minutes: int, language: str | None = None
) -> EmailMessage:
    """The returning shopper's sign-in link (sessions/service/signin.py)."""
    _ = translator(language).gettext
    subject = _("Continue your conversation with %(brand)s") % {"brand": brand_name}
    message = _addressed(Address(addr_spec=email), subject)
    message.set_content(
        _("Hello,")
        + "\n\n"
        + _("Open this link in the browser you want to continue on:")
        + f"\n\n{url}\n\n"
        + _(
            "It works once, for %(minutes)s minutes. If you did not ask for it, ignore this "
            "e-mail: nothing happens without the link."
        )
        % {"minutes": minutes}
        + f"\n\n{brand_name}\n"
    )
    return tag_language(message, language)
