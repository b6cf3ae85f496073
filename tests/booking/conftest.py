"""Consultation fixtures: a staffed brand, a real SMTP server that keeps what it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session

from sessions.models import AssociateProfile, Brand, Store
from sessions.service import availability as av
from sessions.service.hours import at_store, do_set_weekly_hours
from tests.factories import Factory
from tests.servers import free_port

ALL_WEEK = [av.Span(d, time(8, 0), time(20, 0)) for d in range(7)]


class Inbox:
    """An aiosmtpd handler: every message received, and a way to wait for the next ones."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self._cond:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        assert ok, f"expected {count} e-mail(s), got {len(self.messages)}"
        return list(self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox

    @property
    def config(self) -> dict[str, Any]:
        return {"SMTP_HOST": self.host, "SMTP_PORT": self.port, "MAIL_FROM": "Shop <a@b.test>"}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, inbox)
    controller.stop()


@dataclass
class Team:
    brand: Brand
    store: Store
    anna: AssociateProfile


def staff(
    factory: Factory,
    session: Session,
    *,
    zone: str = "Europe/Paris",
    hours: list[av.Span] | None = None,
    **profile: Any,
) -> Team:
    brand = factory.brand()
    store = factory.store(brand, timezone=zone)
    anna = factory.associate(brand, store, name="Anna", languages="en,fr")
    for key, value in ({"min_notice_minutes": 0} | profile).items():
        setattr(anna, key, value)
    session.add(anna)
    session.commit()
    assert store.id is not None
    do_set_weekly_hours(session, anna, at_store(store.id, hours if hours is not None else ALL_WEEK))
    return Team(brand, store, anna)


@pytest.fixture
def team(factory: Factory, session: Session) -> Team:
    return staff(factory, session)
