"""A shopper downloads everything Vitrine holds about them, and nothing of anyone else's;
erasing leaves none of their personal strings in any text column of any table, and the
brand's counts (orders, revenue, bookings, messages) as they were."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask_socketio import SocketIOTestClient
from sqlalchemy import JSON, String, Text, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from sqlmodel.sql.sqltypes import AutoString

from sessions.models import (
    Appointment,
    Bag,
    ChatMessage,
    Order,
    Rating,
    Reminder,
    Shopper,
    ShowReminder,
    SignInLink,
    ThreadMessage,
)
from tests.privacy.conftest import browser_of
from tests.privacy.world import Person, World
from tests.security.consultation_world import changed_tables, snapshot
from web.extensions import socketio


def export_of(app: Flask, world: World, person: Person) -> dict[str, Any]:
    response = browser_of(app, person).get(f"/b/{world.brand.slug}/your-data/export.json")
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Disposition"].startswith("attachment")
    data: dict[str, Any] = response.get_json()
    return data


def exported_ids(data: dict[str, Any]) -> dict[str, set[int]]:
    return {table: {row["id"] for row in rows} for table, rows in data["tables"].items()}


def test_export_holds_the_shoppers_rows_and_nothing_of_anyone_elses(
    app: Flask, world: World, engine: Engine
) -> None:
    before = snapshot(engine)
    data = export_of(app, world, world.a)
    assert changed_tables(before, snapshot(engine)) == [], "the download changed rows"
    ids = exported_ids(data)
    for table, mine in world.a.rows.items():
        assert set(mine) <= ids.get(table, set()), f"{table}: the shopper's rows are missing"
    for table, theirs in world.b.rows.items():
        assert not set(theirs) & ids.get(table, set()), f"{table}: another shopper's row"
    for table, rows in data["tables"].items():
        for row in rows:
            for column, value in row.items():
                if column == "shopper_id" or column.endswith("_shopper_id"):
                    assert value in (None, world.a.id), f"{table}.{column} names someone else"
    text = json.dumps(data, ensure_ascii=False)
    for personal in world.a.secrets:
        assert personal in text, f"the export lacks {personal!r}"
    for personal in world.b.secrets:
        assert personal not in text, f"the export shows the other shopper's {personal!r}"
    assert world.a.shopper.token not in text  # the cookie's key is a credential, never exported
    # Both sides of the conversation are theirs: the associate's answer to them too.
    assert {m["side"] for m in data["tables"]["thread_messages"]} == {"shopper", "staff"}


def text_columns() -> list[tuple[str, str]]:
    return [
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text | JSON | AutoString)
    ]


def scan(session: Session, needles: list[str]) -> dict[str, list[str]]:
    """Every text and JSON column of every table, every row: where each needle is found."""
    found: dict[str, list[str]] = {n: [] for n in needles}
    meta = SQLModel.metadata.tables
    for table_name, column in text_columns():
        table = meta[table_name]
        for (value,) in session.execute(select(table.c[column])).all():
            if value is None:
                continue
            text = (json.dumps(value) if not isinstance(value, str) else value).lower()
            for needle in needles:
                if needle.lower() in text:
                    found[needle].append(f"{table_name}.{column}")
    session.commit()
    return {n: where for n, where in found.items() if where}


def brand_counts(session: Session, brand_id: int) -> dict[str, object]:
    def count(model: Any, *where: Any) -> int:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one()[0])

    counts = {
        "orders": count(Order, Order.brand_id == brand_id),
        "revenue": session.execute(
            select(func.sum(Order.total_minor)).where(Order.brand_id == brand_id)
        ).scalar(),
        "bookings": count(Appointment, Appointment.brand_id == brand_id),
        "bags": count(Bag, Bag.brand_id == brand_id),
        "thread_messages": count(ThreadMessage),
        "chat_messages": count(ChatMessage),
        "ratings": count(Rating, Rating.brand_id == brand_id),
    }
    session.commit()
    return counts


def personal(person: Person) -> list[str]:
    return [*person.secrets, person.shopper.token, f"viewer-{person.secrets[0].split()[0]}"]


def test_erase_leaves_no_personal_data_in_any_table_and_keeps_the_brands_counts(
    app: Flask, world: World, session: Session, engine: Engine
) -> None:
    brand_id, slug = world.brand.id or 0, world.brand.slug
    counts = brand_counts(session, brand_id)
    assert set(scan(session, personal(world.a))) == set(personal(world.a))  # the scan sees them
    browser = browser_of(app, world.a)
    sio: SocketIOTestClient = socketio.test_client(app, flask_test_client=browser)
    assert sio.is_connected()

    before = snapshot(engine)
    refused = browser.post(f"/b/{world.brand.slug}/your-data/erase", data={})
    assert refused.status_code == 422
    assert "Tick the box" in refused.get_data(as_text=True)
    assert changed_tables(before, snapshot(engine)) == []

    page = browser.post(f"/b/{world.brand.slug}/your-data/erase", data={"confirm": "erase"})
    assert page.status_code == 200
    assert "data-erased" in page.get_data(as_text=True)

    assert scan(session, personal(world.a)) == {}
    assert set(scan(session, personal(world.b))) == set(personal(world.b))  # B is untouched
    assert brand_counts(session, brand_id) == counts
    assert not world.a.snapshot.exists() and world.b.snapshot.exists()
    for model, table in (
        (SignInLink, "signin_links"),
        (Reminder, "reminders"),
        (ShowReminder, "show_reminders"),
    ):
        for row_id in world.a.rows[table]:
            assert session.get(model, row_id) is None, f"{table} {row_id} was kept"
    session.expire_all()  # the test's own copies are from before the erasure
    shopper = session.get(Shopper, world.a.id)
    assert shopper is not None and shopper.erased_at is not None and shopper.name is None
    messages = session.exec(
        select(ThreadMessage).where(ThreadMessage.id.in_(world.a.rows["thread_messages"]))  # type: ignore[union-attr]
    ).all()
    assert {m[0].body for m in messages} == {"[erased]"}
    session.close()
    assert not sio.is_connected(), "the erased shopper's socket stayed open"
    # The same browser is a new visitor: nothing about it any more.
    again = browser.get(f"/b/{slug}/your-data")
    assert "data-nothing" in again.get_data(as_text=True)


def test_a_brand_admin_exports_and_erases_at_their_brand_on_request(
    app: Flask, world: World, session: Session
) -> None:
    from tests.conftest import login

    admin = app.test_client()
    login(admin, world.admin_email)
    base = f"/api/brands/{world.brand.id}/shoppers/{world.a.id}"
    data = admin.get(f"{base}/data").get_json()
    assert world.a.secrets[1] in json.dumps(data) and world.b.secrets[1] not in json.dumps(data)
    found = admin.get(f"/admin/shoppers?email={world.a.secrets[1]}")
    assert f'data-shopper="{world.a.id}"' in found.get_data(as_text=True)
    erased = admin.post(f"{base}/erase")
    assert erased.status_code == 200, erased.get_json()
    assert erased.get_json()["deleted"]["signin_links"] == 1
    left = scan(session, world.a.secrets[2:])  # messages and notes at the brand: gone
    assert left == {}
    log = admin.get(f"/api/brands/{world.brand.id}/audit?action=shopper.erase").get_json()
    assert log["total"] == 1 and log["entries"][0]["target"] == f"shopper:{world.a.id}"
