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


def _local(when: datetime, zone: str) -> str:
    local = when.astimezone(ZoneInfo(zone))
    return local.strftime("%A %d %B %Y, %H:%M ") + (local.tzname() or zone) + f" ({zone})"


def build_ics(invite: Invitation, *, cancelled: bool = False) -> bytes:
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
    event.add("summary", f"{invite.brand_name}: video consultation with {invite.associate_name}")
    event.add(
        "description",
        f"Join your consultation: {invite.join_url}\nReschedule or cancel: {invite.manage_url}",
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


def _message(invite: Invitation, subject: str, text: str) -> EmailMessage:
    message = _addressed(recipient(invite.shopper_name, invite.shopper_email), subject)
    message.set_content(text)
    return message


def _when(invite: Invitation) -> str:
    line = _local(invite.starts_at, invite.shopper_timezone)
    if invite.shopper_timezone != invite.store_timezone:
        line += f"\n(at the store: {_local(invite.starts_at, invite.store_timezone)})"
    return line


def confirmation_message(invite: Invitation) -> EmailMessage:
    text = (
        f"Hello {invite.shopper_name},\n\n"
        f"Your video consultation with {invite.associate_name} ({invite.store_name}) "
        f"is booked for\n{_when(invite)}.\n\n"
        f"Join at the time: {invite.join_url}\n"
        f"Reschedule or cancel: {invite.manage_url}\n\n{invite.brand_name}\n"
    )
    message = _message(invite, f"Your consultation with {invite.brand_name} is booked", text)
    _attach_ics(message, build_ics(invite))
    return message


def reminder_message(invite: Invitation, kind: str) -> EmailMessage:
    lead = {"24h": "tomorrow", "15m": "in 15 minutes"}.get(kind, "soon")
    text = (
        f"Hello {invite.shopper_name},\n\n"
        f"A reminder: your consultation with {invite.associate_name} starts {lead},\n"
        f"{_when(invite)}.\n\nJoin: {invite.join_url}\n"
        f"Reschedule or cancel: {invite.manage_url}\n\n{invite.brand_name}\n"
    )
    message = _message(invite, f"Reminder: your consultation starts {lead}", text)
    _attach_ics(message, build_ics(invite))
    return message


def moved_message(invite: Invitation) -> EmailMessage:
    text = (
        f"Hello {invite.shopper_name},\n\nYour consultation with {invite.associate_name} "
        f"now takes place\n{_when(invite)}.\n\nJoin: {invite.join_url}\n"
        f"Reschedule or cancel: {invite.manage_url}\n\n{invite.brand_name}\n"
    )
    message = _message(invite, "Your consultation has a new time", text)
    _attach_ics(message, build_ics(invite))
    return message


def cancelled_message(invite: Invitation, *, by_associate: bool, reason: str) -> EmailMessage:
    if by_associate:
        opening = f"{invite.associate_name} had to cancel your consultation of\n{_when(invite)}."
        if reason:
            opening += f"\n\nTheir message: {reason}"
    else:
        opening = f"Your consultation of\n{_when(invite)}\nis cancelled, as you asked."
    text = f"Hello {invite.shopper_name},\n\n{opening}\n\n{invite.brand_name}\n"
    message = _message(invite, "Your consultation is cancelled", text)
    _attach_ics(message, build_ics(invite, cancelled=True))
    return message


def waitlist_message(invite: Invitation, book_url: str) -> EmailMessage:
    text = (
        f"Hello {invite.shopper_name},\n\nAn earlier time has opened with "
        f"{invite.associate_name}. Your current booking is {_when(invite)}.\n\n"
        f"Move it: {invite.manage_url}\nSee all times: {book_url}\n\n{invite.brand_name}\n"
    )
    return _message(invite, "An earlier consultation time is free", text)


def waitlist_hold_message(
    invite: Invitation, *, held_start: datetime, held_until: datetime, take_url: str
) -> EmailMessage:
    """An earlier time held for the shopper: the link takes it in one step."""
    held = _local(held_start, invite.shopper_timezone)
    if invite.shopper_timezone != invite.store_timezone:
        held += f"\n(at the store: {_local(held_start, invite.store_timezone)})"
    text = (
        f"Hello {invite.shopper_name},\n\nAn earlier time has opened with "
        f"{invite.associate_name}, and we are holding it for you:\n{held}.\n\n"
        f"It is yours if you take it before {_local(held_until, invite.shopper_timezone)}; "
        f"after that it goes to the next person waiting.\n\n"
        f"Take this time (your booking moves there): {take_url}\n\n"
        f"Your current booking stays as it is otherwise:\n{_when(invite)}.\n"
        f"Manage it: {invite.manage_url}\n\n{invite.brand_name}\n"
    )
    return _message(invite, "An earlier consultation time is held for you", text)


def answer_message(
    *, brand_name: str, name: str, email: str, question: str, answer: str, associate: str
) -> EmailMessage:
    message = _addressed(recipient(name, email), f"{brand_name} has answered your message")
    quoted = "\n".join(f"> {line}" for line in question.splitlines())
    message.set_content(
        f"Hello {name},\n\n{answer}\n\n{associate}, {brand_name}\n\nYou wrote:\n{quoted}\n"
    )
    return message


def _attach_ics(message: EmailMessage, ics: bytes) -> None:
    message.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        filename="consultation.ics",
        params={"method": "REQUEST"},
    )


def signin_message(*, brand_name: str, email: str, url: str, minutes: int) -> EmailMessage:
    """The returning shopper's sign-in link (sessions/service/signin.py)."""
    message = _addressed(Address(addr_spec=email), f"Continue your conversation with {brand_name}")
    message.set_content(
        f"Hello,\n\nOpen this link in the browser you want to continue on:\n\n{url}\n\n"
        f"It works once, for {minutes} minutes. If you did not ask for it, ignore this "
        f"e-mail: nothing happens without the link.\n\n{brand_name}\n"
    )
    return message
