"""Mail headers are built from Address objects, and bookings cannot make us mail anyone, often.

A real SMTP server (aiosmtpd) records what each message was really sent to: the
envelope's RCPT TO list, and the parsed To header.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.clock import utcnow
from tests.booking.conftest import Team, staff
from tests.conftest import login
from tests.factories import Factory
from tests.servers import free_port


@dataclass
class Delivery:
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Recorder:
    deliveries: list[Delivery] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.cond:
            self.deliveries.append(Delivery(list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
            self.cond.notify_all()
        return "250 OK"

    def wait_for(self, count: int) -> list[Delivery]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.deliveries) >= count, timeout=20)
        return list(self.deliveries)


@pytest.fixture
def smtp(app: Flask) -> Iterator[Recorder]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, MAIL_FROM="Shop <shop@b.test>")
    yield recorder
    controller.stop()


@pytest.fixture
def team(factory: Factory, session: Session) -> Team:
    return staff(factory, session)


def slots(client: FlaskClient, team: Team) -> list[dict[str, Any]]:
    start = (utcnow() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    response = client.get(
        f"/api/brands/{team.brand.id}/availability",
        query_string={"start": start.isoformat(), "days": 3},
    )
    assert response.status_code == 200
    return list(response.json)


def book(
    client: FlaskClient, team: Team, slot: dict[str, Any], name: str, email: str, **env: str
) -> Any:
    body = {
        "associate_id": slot["associate_id"],
        "store_id": slot["store_id"],
        "starts_at": slot["starts_at"],
        "name": name,
        "email": email,
    }
    return client.post(f"/api/brands/{team.brand.id}/appointments", json=body, environ_base=env)


@pytest.mark.parametrize(
    "name",
    [
        "victim@x.test, Camille",
        "Camille <victim@x.test>",
        "Camille\r\nBcc: victim@x.test",
        '"Camille" victim@x.test,',
    ],
)
def test_a_shoppers_name_cannot_add_a_recipient(
    client: FlaskClient, team: Team, smtp: Recorder, name: str
) -> None:
    booked = book(client, team, slots(client, team)[0], name, "camille@example.com")
    assert booked.status_code == 201, booked.json
    delivery = smtp.wait_for(1)[0]
    assert delivery.rcpt_tos == ["camille@example.com"]
    to = delivery.message["To"]
    assert [a.addr_spec for a in to.addresses] == ["camille@example.com"]
    assert to.addresses[0].display_name == " ".join(name.split())
    assert delivery.message["Bcc"] is None and delivery.message["Cc"] is None


def test_an_email_that_is_not_one_address_is_refused(client: FlaskClient, team: Team) -> None:
    for email in ("victim@x.test,camille@example.com", "camille@example.com>", "a<b@example.com"):
        refused = book(client, team, slots(client, team)[0], "Camille", email)
        assert refused.status_code == 422, (email, refused.json)
        assert refused.json["details"]["field"] == "email"


def test_an_answer_to_a_left_message_goes_to_one_recipient(
    app: Flask, client: FlaskClient, team: Team, smtp: Recorder, factory: Factory, session: Session
) -> None:
    left = client.post(
        f"/api/brands/{team.brand.id}/messages",
        json={"name": "victim@x.test, Camille", "email": "c@example.com", "body": "In blue?"},
    )
    assert left.status_code == 201, left.json
    email = factory.user_of(team.anna).email
    session.commit()
    associate = app.test_client()
    login(associate, email)
    answered = associate.post(
        f"/api/messages/{left.json['id']}/answer", json={"answer": "Yes, in sky blue."}
    )
    assert answered.status_code == 200, answered.json
    delivery = smtp.wait_for(1)[0]
    assert delivery.rcpt_tos == ["c@example.com"]
    assert [a.addr_spec for a in delivery.message["To"].addresses] == ["c@example.com"]


def test_one_address_gets_a_few_confirmations_an_hour_then_a_429(
    client: FlaskClient, team: Team, smtp: Recorder
) -> None:
    taken = slots(client, team)[0]
    assert book(client, team, taken, "Lou", "lou@example.com").status_code == 201
    for _ in range(3):  # lost to another shopper: no mail sent, no budget spent
        lost = book(client, team, taken, "Camille", "camille@example.com")
        assert lost.status_code == 409, lost.json
    for _ in range(5):
        done = book(client, team, slots(client, team)[0], "Camille", "camille@example.com")
        assert done.status_code == 201, done.json
    refused = book(client, team, slots(client, team)[0], "Camille", "camille@example.com")
    assert refused.status_code == 429
    assert "this e-mail address" in refused.json["message"]
    assert "seconds" in refused.json["message"]
    assert len(smtp.wait_for(6)) == 6  # Lou's and Camille's five
    # Another address still books (from another client: this one has its own budget).
    other = book(
        client, team, slots(client, team)[0], "Lou", "lou@example.com", REMOTE_ADDR="192.0.2.7"
    )
    assert other.status_code == 201


def test_one_client_gets_a_bounded_number_of_confirmations(client: FlaskClient, team: Team) -> None:
    env = {"REMOTE_ADDR": "198.51.100.9"}
    for n in range(20):
        done = book(client, team, slots(client, team)[0], "C", f"c{n}@example.com", **env)
        assert done.status_code == 201, done.json
    refused = book(client, team, slots(client, team)[0], "C", "c20@example.com", **env)
    assert refused.status_code == 429 and "your connection" in refused.json["message"]


def test_the_booking_page_shows_the_limit_as_a_page(
    client: FlaskClient, team: Team, smtp: Recorder
) -> None:
    for _ in range(5):
        done = book(client, team, slots(client, team)[0], "Camille", "camille@example.com")
        assert done.status_code == 201, done.json
    slot = slots(client, team)[0]
    value = f"{slot['associate_id']}|{slot['store_id']}|{slot['starts_at']}"
    page = client.post(
        f"/b/{team.brand.slug}/book",
        data={"slot": value, "name": "Camille", "email": "camille@example.com"},
    )
    assert page.status_code == 429 and b"this e-mail address" in page.data
