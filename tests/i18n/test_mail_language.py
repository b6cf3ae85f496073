"""An e-mail in its recipient's language, through a real SMTP server (aiosmtpd): a shopper
reading the show page in French asks to be reminded; the confirmation, its subject, its
dates and the .ics it carries are French, with the brand's French title of the show."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from icalendar import Calendar

from sessions.brand_texts import do_set_texts
from sessions.models import ShowStatus
from tests.booking.conftest import SmtpServer
from tests.conftest import app_config, running_app
from tests.shows.conftest import Cast
from web.i18n import COOKIE


@pytest.fixture
def app(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[Flask]:
    config = app_config(database_url, tmp_path, PUBLIC_URL="http://shop.test", **smtp.config)
    with running_app(config) as made:
        yield made


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_show_reminder_confirmation_is_in_the_shoppers_language(
    cast: Cast, app: Flask, smtp: SmtpServer
) -> None:
    cast.brand.show_reminder_minutes = 30
    cast.session.add(cast.brand)
    cast.session.commit()
    show = cast.show_in(ShowStatus.SCHEDULED, description="Knitwear and coats.")
    assert cast.brand.id and show.id
    do_set_texts(
        cast.session,
        cast.brand.id,
        "show",
        show.id,
        {("title", "fr"): "L’édition d’automne", ("description", "fr"): "Mailles et manteaux."},
    )
    shopper = cast.client(app, "shopper")
    shopper.set_cookie(COOKIE, "fr")
    asked = shopper.post(f"/api/shows/{show.id}/reminders", json={"email": "camille@example.com"})
    assert asked.status_code == 201
    assert asked.json["message"].startswith("Nous vous la rappellerons.")

    mail = smtp.inbox.wait_for(1)[0]
    assert mail["Content-Language"] == "fr"
    assert mail["Subject"] == f"{cast.brand.name} : nous vous rappellerons L’édition d’automne"
    body = text_of(mail)
    assert body.startswith("Bonjour,")
    assert "Nous vous écrirons 30 minutes avant le début, puis dès le passage en direct." in body
    assert "Ne plus recevoir d’e-mails à ce sujet : http://shop.test/show-reminders/" in body
    # The date as French writes it: the weekday and the month in words, in French.
    local = show.starts_at
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
    assert f"{local.day} {months[local.month - 1]} {local.year}" in body
    ics = next(p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar")
    event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]  # UTF-8 bytes
    assert str(event["SUMMARY"]) == f"{cast.brand.name}: L’édition d’automne"
    assert str(event["DESCRIPTION"]).startswith("Mailles et manteaux.\n\nRegarder en direct : ")
