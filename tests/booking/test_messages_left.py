"""Answering a message left: the e-mail reaches a real SMTP server after the answer is
committed (never inside the transaction), a second answer is refused with 409 and a
message, and a mail server that refuses gives the message back to the inbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sessions.models import OfflineMessage
from sessions.service import messages_left
from tests.booking.conftest import Inbox, SmtpServer, staff
from tests.conftest import app_config, login, running_app
from tests.factories import Factory
from tests.servers import free_port


class CheckingInbox(Inbox):
    """Notes, as each e-mail arrives, whether its answer is already committed."""

    def __init__(self) -> None:
        super().__init__()
        self.engine: Engine | None = None
        self.committed: list[bool] = []
        self.refuse = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse.is_set():
            return "554 Transaction failed"
        assert self.engine is not None
        with Session(self.engine) as db:  # another connection: sees only what is committed
            rows = [m for m in db.query(OfflineMessage).all() if m.answered_at is not None]
            self.committed.append(bool(rows))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def checking_smtp() -> Iterator[SmtpServer]:
    inbox = CheckingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, inbox)
    controller.stop()


@pytest.fixture
def mail_app(database_url: str, tmp_path: Path, checking_smtp: SmtpServer) -> Iterator[Flask]:
    with running_app(app_config(database_url, tmp_path, **checking_smtp.config)) as app:
        inbox = checking_smtp.inbox
        assert isinstance(inbox, CheckingInbox)
        inbox.engine = app.extensions["vitrine.engine"]
        yield app


def test_the_answer_is_mailed_after_its_commit_and_only_once(
    mail_app: Flask, checking_smtp: SmtpServer
) -> None:
    engine = mail_app.extensions["vitrine.engine"]
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        team = staff(factory, session)
        lea = factory.associate(team.brand, team.store, name="Léa")
        message = messages_left.do_leave_message(
            session,
            brand_id=team.brand.id or 0,
            shopper_id=None,
            name="Iris",
            email="iris@example.com",
            body="Does the Carré come in sky blue?",
        )
        anna_email, lea_email = factory.user_of(team.anna).email, factory.user_of(lea).email

    anna, lea_client = mail_app.test_client(), mail_app.test_client()
    login(anna, anna_email)
    login(lea_client, lea_email)
    url = f"/api/messages/{message.id}/answer"
    answered = anna.post(url, json={"answer": "Yes, in sky blue and in rose."})
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["answered_at"] is not None

    mail = checking_smtp.inbox.wait_for(1)[0]
    assert mail["To"].addresses[0].addr_spec == "iris@example.com"
    assert "answered your message" in mail["Subject"]
    body = mail.get_body(("plain",))
    assert body is not None and "Yes, in sky blue and in rose." in body.get_content()
    inbox = checking_smtp.inbox
    assert isinstance(inbox, CheckingInbox) and inbox.committed == [True]

    # A colleague's second answer is refused, told who answered; no second e-mail.
    again = lea_client.post(url, json={"answer": "Also in black."})
    assert again.status_code == 409
    assert again.get_json()["error"] == "already_answered"
    assert "already answered by Anna" in again.get_json()["message"]
    assert len(inbox.messages) == 1
    with Session(engine) as db:
        stored = db.get(OfflineMessage, message.id)
        assert stored is not None and stored.answer == "Yes, in sky blue and in rose."


def test_a_refused_e_mail_gives_the_message_back(
    mail_app: Flask, checking_smtp: SmtpServer
) -> None:
    engine = mail_app.extensions["vitrine.engine"]
    inbox = checking_smtp.inbox
    assert isinstance(inbox, CheckingInbox)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        team = staff(factory, session)
        message = messages_left.do_leave_message(
            session,
            brand_id=team.brand.id or 0,
            shopper_id=None,
            name="Iris",
            email="iris@example.com",
            body="Is it lined?",
        )
        email = factory.user_of(team.anna).email
    anna = mail_app.test_client()
    login(anna, email)
    inbox.refuse.set()
    failed = anna.post(f"/api/messages/{message.id}/answer", json={"answer": "Yes, in silk."})
    assert failed.status_code == 503
    assert "still waits for an answer" in failed.get_json()["message"]
    with Session(engine) as db:
        stored = db.get(OfflineMessage, message.id)
        assert stored is not None and stored.answered_at is None and stored.answer == ""
    inbox.refuse.clear()
    retried = anna.post(f"/api/messages/{message.id}/answer", json={"answer": "Yes."})
    assert retried.status_code == 200
    assert len(inbox.wait_for(1)) == 1
