"""Each associate's parallel cap, slot length, buffer, notice, daily maximum, bio and photo,
set by the brand admin: the domain check, what availability and routing then do, the admin
page's POSTs, and a refusal (4xx, nothing changed) for each kind of bad input."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO
from itertools import pairwise
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlmodel import Session

from sessions.brands import do_set_associate_service
from sessions.clock import utcnow
from sessions.errors import InvalidInput
from sessions.models import AssociateProfile, AssociateStatus, QueueRequest, QueueStatus
from sessions.service import appointments, queue
from tests.booking.conftest import Team
from tests.conftest import login
from tests.factories import Factory


def slots(session: Session, team: Team, start: datetime, hours: int = 24) -> list[datetime]:
    found = appointments.find_slots(
        session,
        team.brand.id or 0,
        start=start,
        end=start + timedelta(hours=hours),
        associate_id=team.anna.id,
    )
    session.commit()
    return [o.starts_at for o in found]


def midnight_in(days: int) -> datetime:
    return (utcnow() + timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)


def test_slot_length_buffer_notice_and_daily_maximum_shape_availability(
    session: Session, team: Team, factory: Factory
) -> None:
    do_set_associate_service(
        session, team.anna, bio="", slot_minutes=60, buffer_minutes=30, max_per_day=2
    )
    day = midnight_in(3)
    starts = slots(session, team, day)
    # 08:00-20:00 in Paris, a step of 60 + 30 minutes.
    assert all(b - a == timedelta(minutes=90) for a, b in pairwise(starts))
    assert len(starts) == 8  # 12 hours hold eight 90-minute steps
    booked = appointments.do_book(
        session,
        brand_id=team.brand.id or 0,
        associate_id=team.anna.id or 0,
        store_id=team.store.id or 0,
        starts_at=starts[0],
        shopper_id=factory.shopper().id or 0,
        name="Iris",
        email="iris@example.com",
    )
    assert booked.ends_at - booked.starts_at == timedelta(minutes=60)
    assert len(slots(session, team, day)) == 7
    appointments.do_book(
        session,
        brand_id=team.brand.id or 0,
        associate_id=team.anna.id or 0,
        store_id=team.store.id or 0,
        starts_at=starts[3],
        shopper_id=factory.shopper().id or 0,
        name="Jo",
        email="jo@example.com",
    )
    assert slots(session, team, day) == []  # two a day at most: the day is full
    assert slots(session, team, day + timedelta(days=1))  # the next day is not

    # Notice: nothing sooner than 3 days ahead.
    do_set_associate_service(session, team.anna, bio="", min_notice_minutes=3 * 24 * 60)
    soon = slots(session, team, midnight_in(1), hours=48)
    assert soon == []


def test_the_parallel_cap_is_what_routing_counts(
    session: Session, team: Team, factory: Factory
) -> None:
    do_set_associate_service(session, team.anna, bio="", max_parallel_chats=1)
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE)
    first = queue.do_enqueue(session, brand=team.brand, shopper_id=factory.shopper().id or 0)
    second = queue.do_enqueue(session, brand=team.brand, shopper_id=factory.shopper().id or 0)
    assert isinstance(first, QueueRequest) and isinstance(second, QueueRequest)
    assert first.status is QueueStatus.OFFERED and first.associate_id == team.anna.id
    assert second.status is QueueStatus.WAITING  # her one place is taken
    do_set_associate_service(session, team.anna, bio="", max_parallel_chats=2)
    queue.do_route(session, team.brand.id or 0)
    session.refresh(second)
    assert second.status is QueueStatus.OFFERED and second.associate_id == team.anna.id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_parallel_chats", 0),
        ("slot_minutes", 1000),
        ("buffer_minutes", "ten"),
        ("min_notice_minutes", -5),
        ("max_per_day", 51),
    ],
)
def test_the_domain_refuses_a_wrong_value_and_changes_nothing(
    session: Session, team: Team, field: str, value: object
) -> None:
    before = team.anna.model_dump()
    with pytest.raises(InvalidInput) as refused:
        do_set_associate_service(
            session, team.anna, bio="New bio", **{"max_per_day": 3, field: value}
        )
    assert refused.value.details["field"] == field
    session.refresh(team.anna)
    assert team.anna.model_dump() == before


def png(size: tuple[int, int] = (300, 300)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (200, 160, 120)).save(out, "PNG")
    return out.getvalue()


def admin_client(app: Flask, factory: Factory, team: Team) -> FlaskClient:
    client = app.test_client()
    login(client, factory.admin(team.brand).email)
    return client


def form(team: Team, **changes: Any) -> dict[str, Any]:
    return {
        "display_name": "Anna",
        "languages": "en,fr",
        "specialities": "silk",
        "store_ids": [str(team.store.id)],
        "max_parallel_chats": "4",
        "slot_minutes": "45",
        "buffer_minutes": "15",
        "min_notice_minutes": "120",
        "max_per_day": "6",
        "bio": "Twelve years at the Paris store; scarves and silk.",
        **changes,
    }


def test_the_admin_page_saves_every_setting_and_the_photo(
    app: Flask, session: Session, team: Team, factory: Factory
) -> None:
    admin = admin_client(app, factory, team)
    page = admin.get(f"/admin/associates/{team.anna.id}").get_data(as_text=True)
    for name in ("max_parallel_chats", "slot_minutes", "buffer_minutes", "min_notice_minutes"):
        assert f'name="{name}"' in page
    assert 'name="max_per_day"' in page and 'name="bio"' in page and 'name="photo"' in page
    assert 'enctype="multipart/form-data"' in page

    data = form(team, photo=(BytesIO(png((1600, 1200))), "anna.png"))
    saved = admin.post(
        f"/admin/associates/{team.anna.id}", data=data, content_type="multipart/form-data"
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    session.refresh(team.anna)
    anna: AssociateProfile = team.anna
    assert (
        anna.max_parallel_chats,
        anna.slot_minutes,
        anna.buffer_minutes,
        anna.min_notice_minutes,
        anna.max_per_day,
    ) == (4, 45, 15, 120, 6)
    assert anna.bio.startswith("Twelve years")
    assert anna.photo_path is not None and anna.photo_path.startswith("people/")
    session.commit()
    photo = app.test_client().get(f"/uploads/{anna.photo_path}")
    assert photo.status_code == 200
    with Image.open(BytesIO(photo.data)) as image:
        assert max(image.size) <= 600  # re-encoded, resized
    shown = admin.get(f"/admin/associates/{team.anna.id}").get_data(as_text=True)
    assert 'value="45"' in shown and anna.photo_path in shown
    # Saved without a new photo: the photo stays.
    assert admin.post(f"/admin/associates/{team.anna.id}", data=form(team)).status_code == 302
    session.refresh(anna)
    assert anna.photo_path is not None
    session.commit()


BAD_INPUTS = [
    ("max_parallel_chats", "0", "1 to 20"),
    ("slot_minutes", "999", "5 to 240"),
    ("buffer_minutes", "a while", "0 to 120"),
    ("min_notice_minutes", "-30", "minutes"),
    ("max_per_day", "100", "1 to 50"),
    ("bio", "x" * 2001, "under 2000"),
    ("photo", (b"this is not a picture", "anna.png"), "not a picture"),
    ("photo", (b"\0" * (2 * 1024 * 1024 + 1), "big.jpg"), "under 2 MB"),
]


@pytest.mark.parametrize(("field", "value", "said"), BAD_INPUTS)
def test_the_admin_page_refuses_bad_input_with_a_message(
    app: Flask, session: Session, team: Team, factory: Factory, field: str, value: Any, said: str
) -> None:
    admin = admin_client(app, factory, team)
    before = team.anna.model_dump()
    if isinstance(value, tuple):
        value = (BytesIO(value[0]), value[1])
    refused = admin.post(
        f"/admin/associates/{team.anna.id}",
        data=form(team, **{field: value}),
        content_type="multipart/form-data",
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422, html[:500]
    assert said in html
    assert f'id="e-{field}"' in html  # the message sits next to its field
    session.refresh(team.anna)
    assert team.anna.model_dump() == before
    session.commit()
