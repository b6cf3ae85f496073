"""Consultation resources for the roles x endpoints matrix (tests/test_access_matrix.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from sessions.accounts import do_create_associate
from sessions.catalogue import new_room_name
from sessions.clock import utcnow
from sessions.models import (
    Appointment,
    AssociateProfile,
    AssociateStatus,
    AssociateStore,
    AvailabilityException,
    Brand,
    LiveSession,
    OfflineMessage,
    QueueRequest,
    QueueStatus,
    SessionKind,
    Shopper,
)
from tests.factories import Factory


def booking_ids(db: Session, brand: Brand, associate: AssociateProfile) -> dict[str, int | None]:
    """An appointment with its consultation, a request offered to the associate, a message,
    an exception, and an online colleague with room for a consultation handed over."""
    assert brand.id is not None and associate.id is not None
    link = db.exec(select(AssociateStore).where(AssociateStore.associate_id == associate.id)).one()
    colleague = do_create_associate(
        db,
        brand_id=brand.id,
        email=f"colleague-{utcnow().timestamp()}@example.com",
        name="Colleague",
        password=Factory.PASSWORD,
        store_ids=[link.store_id],
    )
    colleague.status = AssociateStatus.ONLINE
    colleague.console_seen_at = utcnow()  # present: their console is open (auto-away)
    db.add(colleague)
    shopper = Shopper(token=f"matrix-{utcnow().timestamp()}")
    db.add(shopper)
    db.flush()
    assert shopper.id is not None
    starts = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    appointment = Appointment(
        brand_id=brand.id,
        associate_id=associate.id,
        store_id=link.store_id,
        shopper_id=shopper.id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        shopper_name="Matrix",
        shopper_email="matrix@example.com",
    )
    db.add(appointment)
    db.flush()
    consultation = LiveSession(
        brand_id=brand.id,
        kind=SessionKind.CONSULTATION,
        appointment_id=appointment.id,
        shopper_id=shopper.id,
        associate_id=associate.id,
        room=new_room_name("consult"),
    )
    request = QueueRequest(
        brand_id=brand.id,
        shopper_id=shopper.id,
        status=QueueStatus.OFFERED,
        associate_id=associate.id,
        offered_at=utcnow(),
    )
    message = OfflineMessage(brand_id=brand.id, name="M", email="m@example.com", body="Hello?")
    exception = AvailabilityException(associate_id=associate.id, day=starts.date())
    db.add_all([consultation, request, message, exception])
    db.commit()
    return {
        "appointment_id": appointment.id,
        "consultation_id": consultation.id,
        "request_id": request.id,
        "message_id": message.id,
        "exception_id": exception.id,
        "colleague_id": colleague.id,
        "shopper_id": shopper.id,  # a shopper of the brand (privacy: export, erase)
    }


def booking_bodies(ids: dict[str, int]) -> dict[tuple[str, str], dict[str, object]]:
    """Bodies that name another resource of the world (the example's ids are placeholders)."""
    return {
        ("post", "/consultations/<int:consultation_id>/transfer"): {
            "associate_id": ids["colleague_id"]
        },
        ("post", "/threads/<int:thread_id>/transfer"): {"associate_id": ids["colleague_id"]},
    }
