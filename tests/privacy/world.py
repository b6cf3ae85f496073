"""Two shoppers with data everywhere: every table a shopper's row can reach holds rows of
each of them, at one brand, with personal strings unique to each (to find them again)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, SQLModel

from sessions.catalogue import new_room_name
from sessions.clock import utcnow
from sessions.models import (
    AnalyticsEvent,
    Appointment,
    AppointmentSlot,
    Bag,
    BagLine,
    BagStatus,
    Brand,
    ChatMessage,
    CheckoutHandoff,
    ConsultationConsent,
    FlashOffer,
    LiveSession,
    MessageKind,
    OfflineMessage,
    Order,
    PinnedProduct,
    Poll,
    PollAnswer,
    PollVote,
    QuestionUpvote,
    QueueRequest,
    Rating,
    Reminder,
    RoomSanction,
    SessionKind,
    SessionStatus,
    Shopper,
    ShowMailKind,
    ShowQuestion,
    ShowReminder,
    ShowReminderMail,
    SignInLink,
    StockReservation,
    Thread,
    ThreadMessage,
    ThreadSide,
    VideoRequest,
    VideoSide,
    WaitlistEntry,
    WaitlistHold,
)
from tests.factories import Factory


@dataclass
class Person:
    shopper: Shopper
    secrets: list[str]  # strings that are personal to them: none may survive an erasure
    snapshot: Path
    consultation: LiveSession
    rows: dict[str, list[int]] = field(default_factory=dict)

    @property
    def id(self) -> int:
        assert self.shopper.id is not None
        return self.shopper.id


@dataclass
class World:
    brand: Brand
    show_live: LiveSession
    a: Person
    b: Person
    admin_email: str


def _add(session: Session, person: Person | None, row: SQLModel) -> SQLModel:
    session.add(row)
    session.flush()
    if person is not None:
        person.rows.setdefault(row.__tablename__, []).append(row.id)  # type: ignore[attr-defined]
    return row


def make_world(factory: Factory, session: Session, upload_dir: Path) -> World:
    brand = factory.brand()
    store = factory.store(brand)
    associate = factory.associate(brand, store, name="Camille Staff")
    host = factory.user_of(associate)
    product = factory.product(brand, stock=9)
    variant = factory.variants(product)[0]
    show = factory.show(brand, host_ids=[associate.id], product_ids=[product.id])
    show_live = factory.live_session(show)
    admin = factory.admin(brand)
    assert brand.id and store.id and associate.id and product.id and variant.id and show_live.id
    now = utcnow()
    poll = Poll(live_session_id=show_live.id, question="Which colour?", closes_at=now)
    session.add(poll)
    session.flush()
    assert poll.id is not None
    answer = PollAnswer(poll_id=poll.id, position=0, label="Sky blue")
    session.add(answer)
    session.flush()
    people: list[Person] = []
    for tag in ("Amelie", "Bertrand"):
        n = len(people)
        name, email = f"{tag} Privacy{n}", f"{tag.lower()}.privacy{n}@example.com"
        said = f"{tag} says my size is 38 and I live at {n} Rue Secrete"
        shopper = Shopper(
            token=f"tok-{tag}-{n}",
            name=name,
            email=email,
            email_verified_at=now,
            timezone="Asia/Shanghai",
        )
        session.add(shopper)
        session.flush()
        assert shopper.id is not None
        sid = shopper.id
        snapshot = upload_dir / "snapshots" / f"shot-{tag}.jpg"
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_bytes(b"\xff\xd8\xff fake jpeg of " + tag.encode())
        appointment = Appointment(
            brand_id=brand.id,
            associate_id=associate.id,
            store_id=store.id,
            shopper_id=sid,
            starts_at=now + timedelta(days=2 + n),
            ends_at=now + timedelta(days=2 + n, hours=1),
            shopper_name=name,
            shopper_email=email,
            notes=f"{tag} notes: allergic to nickel",
        )
        consultation = LiveSession(
            brand_id=brand.id,
            kind=SessionKind.CONSULTATION,
            shopper_id=sid,
            associate_id=associate.id,
            room=new_room_name("consult"),
            status=SessionStatus.ENDED,
            started_at=now - timedelta(hours=2),
            ended_at=now - timedelta(hours=1),
        )
        person = Person(
            shopper, [name, email, said, f"{tag} notes", f"{tag} asks"], snapshot, consultation
        )
        person.rows["shoppers"] = [sid]
        _add(session, person, appointment)
        assert appointment.id is not None
        _add(session, person, consultation)
        assert consultation.id is not None
        _add(
            session,
            person,
            AppointmentSlot(
                appointment_id=appointment.id,
                associate_id=associate.id,
                cell_start=appointment.starts_at,
            ),
        )
        _add(session, person, Reminder(appointment_id=appointment.id, kind="24h", due_at=now))
        entry = _add(
            session, person, WaitlistEntry(brand_id=brand.id, appointment_id=appointment.id)
        )
        _add(
            session,
            person,
            WaitlistHold(
                brand_id=brand.id,
                entry_id=entry.id,
                appointment_id=appointment.id,  # type: ignore[attr-defined]
                associate_id=associate.id,
                store_id=store.id,
                starts_at=now,
                offered_at=now,
                held_until=now + timedelta(hours=1),
            ),
        )
        queue = _add(session, person, QueueRequest(brand_id=brand.id, shopper_id=sid))
        thread = _add(session, person, Thread(brand_id=brand.id, shopper_id=sid))
        tid = thread.id  # type: ignore[attr-defined]
        _add(
            session,
            person,
            ThreadMessage(thread_id=tid, side=ThreadSide.SHOPPER, author_name=name, body=said),
        )
        _add(
            session,
            person,
            ThreadMessage(
                thread_id=tid,
                side=ThreadSide.STAFF,
                user_id=host.id,
                author_name="Camille Staff",
                body=f"Hello {name}, noted.",
                attachment_url=f"/snapshots/{consultation.id}/{snapshot.name}",
            ),
        )
        _add(
            session,
            person,
            VideoRequest(
                thread_id=tid,
                brand_id=brand.id,
                shopper_id=sid,
                associate_id=associate.id,
                asked_by=VideoSide.SHOPPER,
                expires_at=now + timedelta(minutes=2),
            ),
        )
        _add(
            session,
            person,
            ChatMessage(
                live_session_id=consultation.id, shopper_id=sid, author_name=name, body=said
            ),
        )
        _add(
            session,
            person,
            ChatMessage(
                live_session_id=consultation.id,
                kind=MessageKind.SNAPSHOT,
                user_id=host.id,
                author_name="Camille Staff",
                body=f"For {name}",
                attachment_path=f"snapshots/{snapshot.name}",
            ),
        )
        _add(
            session,
            person,
            ChatMessage(
                live_session_id=show_live.id,
                shopper_id=sid,
                author_name=name,
                body=f"{tag} asks in the show chat",
            ),
        )
        _add(
            session,
            person,
            ConsultationConsent(live_session_id=consultation.id, shopper_id=sid, accepted=True),
        )
        _add(
            session,
            person,
            Rating(
                brand_id=brand.id,
                associate_id=associate.id,
                live_session_id=consultation.id,
                shopper_id=sid,
                score=5,
                comment=f"{tag} notes: lovely",
            ),
        )
        _add(
            session,
            person,
            RoomSanction(
                live_session_id=show_live.id, shopper_id=sid, kind="mute", by_user_id=host.id
            ),
        )
        _add(session, person, PinnedProduct(live_session_id=consultation.id, product_id=product.id))
        offer = _add(
            session,
            person,
            FlashOffer(
                live_session_id=consultation.id,
                product_id=product.id,
                price_minor=9000,
                quantity=1,
                ends_at=now,
            ),
        )
        _add(session, person, PollVote(poll_id=poll.id, answer_id=answer.id, shopper_id=sid))
        question = _add(
            session,
            person,
            ShowQuestion(
                live_session_id=show_live.id,
                shopper_id=sid,
                author_name=name,
                body=f"{tag} asks: does it run small?",
            ),
        )
        reminder = _add(session, person, ShowReminder(show_id=show.id, email=email, shopper_id=sid))  # type: ignore[arg-type]
        _add(session, person, ShowReminderMail(reminder_id=reminder.id, kind=ShowMailKind.CONFIRM))  # type: ignore[attr-defined]
        bag = _add(
            session, person, Bag(brand_id=brand.id, shopper_id=sid, status=BagStatus.CHECKED_OUT)
        )
        line = _add(
            session,
            person,
            BagLine(
                bag_id=bag.id,
                variant_id=variant.id,
                unit_price_minor=12000,  # type: ignore[attr-defined]
                currency="EUR",
                live_session_id=consultation.id,
                flash_offer_id=offer.id,
            ),
        )  # type: ignore[attr-defined]
        _add(
            session,
            person,
            StockReservation(
                variant_id=variant.id,
                bag_line_id=line.id,
                quantity=1,  # type: ignore[attr-defined]
                expires_at=now,
            ),
        )
        handoff = _add(
            session,
            person,
            CheckoutHandoff(
                brand_id=brand.id,
                bag_id=bag.id,
                method="url",  # type: ignore[attr-defined]
                total_minor=12000,
                currency="EUR",
            ),
        )
        _add(
            session,
            person,
            Order(
                brand_id=brand.id,
                external_id=f"ORD-{tag}",
                bag_id=bag.id,  # type: ignore[attr-defined]
                handoff_id=handoff.id,
                shopper_id=sid,
                total_minor=12000 + n,  # type: ignore[attr-defined]
                currency="EUR",
                live_session_id=consultation.id,
            ),
        )
        _add(
            session,
            person,
            AnalyticsEvent(
                brand_id=brand.id,
                kind="join",
                live_session_id=show_live.id,
                shopper_id=sid,
                viewer_key=f"viewer-{tag}",
            ),
        )
        _add(
            session,
            person,
            OfflineMessage(brand_id=brand.id, shopper_id=sid, name=name, email=email, body=said),
        )
        _add(
            session,
            person,
            SignInLink(
                brand_id=brand.id,
                shopper_id=sid,
                email=email,
                expires_at=now + timedelta(minutes=30),
            ),
        )
        assert queue is not None
        people.append(person)
        person.rows.setdefault("question_ids", []).append(question.id)  # type: ignore[attr-defined]
    a, b = people
    # Each upvotes the other's question: the upvote is the voter's row, not the asker's.
    for voter, asker in ((a, b), (b, a)):
        _add(
            session,
            voter,
            QuestionUpvote(question_id=asker.rows["question_ids"][0], shopper_id=voter.id),
        )
    for person in people:
        person.rows.pop("question_ids")
    session.commit()
    return World(brand, show_live, a, b, admin.email)
