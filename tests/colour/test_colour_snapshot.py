"""The console's colour truth through its routes: a snapshot corrected against the card,
the piece measured against its variant's catalogue colour, that colour kept from a
measurement; bad input is a 4xx in words; a frame without the card is said so."""

from __future__ import annotations

from io import BytesIO

import cv2
import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlmodel import Session
from werkzeug.test import TestResponse

from sessions.clock import utcnow
from sessions.colour import analyse, scene
from sessions.models import LiveSession, SessionKind, SessionStatus, Thread, Variant
from tests.booking.conftest import Team
from tests.conftest import login
from tests.factories import Factory

SKY = (118, 170, 222)


def jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return data.tobytes()


def consultation(client: FlaskClient, session: Session, team: Team) -> LiveSession:
    asked = client.post(f"/api/brands/{team.brand.id}/thread", json={"body": "True sky blue?"})
    assert asked.status_code == 201, asked.get_json()
    thread = session.get(Thread, asked.get_json()["thread"]["id"])
    assert thread is not None
    live = LiveSession(
        brand_id=team.brand.id,  # type: ignore[arg-type]
        kind=SessionKind.CONSULTATION,
        shopper_id=thread.shopper_id,
        associate_id=team.anna.id,
        room=f"consult-colour-{team.anna.id}",
        status=SessionStatus.LIVE,
        started_at=utcnow(),
    )
    session.add(live)
    session.commit()
    # The shopper agreed to keep the pictures (sessions/privacy/consent.py).
    agreed = client.post(f"/consult/{live.id}/consent", data={"decision": "accept"})
    assert agreed.status_code == 302
    return live


def sky_variant(factory: Factory, team: Team) -> Variant:
    product = factory.product(team.brand, name="Carré de soie")
    variant = factory.variants(product)[0]
    variant.colour, variant.colour_hex = "Sky blue", "#76aade"
    factory.session.add(variant)
    factory.session.commit()
    return variant


def post(
    client: FlaskClient, url: str, frame: np.ndarray | bytes | None, **form: str
) -> TestResponse:
    data: dict[str, object] = dict(form)
    if frame is not None:
        raw = frame if isinstance(frame, bytes) else jpeg(frame)
        data["image"] = (BytesIO(raw), "snapshot.jpg")
    return client.post(
        url, data=data, content_type="multipart/form-data", headers={"Accept": "application/json"}
    )


def test_corrected_snapshot_measured_against_the_catalogue_and_kept_as_its_colour(
    app: Flask, client: FlaskClient, session: Session, team: Team, factory: Factory
) -> None:
    live = consultation(client, session, team)
    variant = sky_variant(factory, team)
    anna = app.test_client()
    login(anna, factory.user_of(team.anna).email)
    frame = scene.render("warm tungsten", piece_srgb8=SKY, seed=5)
    x, y = (f"{v:.4f}" for v in frame.piece_centre)

    # The preview: the corrected picture and the card's residual; nothing is stored.
    preview = post(anna, f"/console/live/{live.id}/colour", frame.rgb).get_json()
    assert preview["found"] is True
    assert preview["report"]["card_delta_e"] < 1.5 and preview["report"]["patches"] == 24
    corrected = np.asarray(Image.open(BytesIO(__import__("base64").b64decode(preview["image"]))))
    assert analyse(corrected).delta_e_mean < 3.0  # the picture itself is corrected

    # Against the catalogue's swatch (typed, not measured): compared, and said so.
    measured = post(
        anna, f"/console/live/{live.id}/colour", frame.rgb, x=x, y=y, variant_id=str(variant.id)
    ).get_json()["report"]
    assert measured["variant"]["source"] == "swatch"
    assert measured["comparison"]["verdict"] == "same", measured

    # Kept as the variant's reference colour, from the measurement.
    kept = post(anna, f"/console/variants/{variant.id}/reference-colour", frame.rgb, x=x, y=y)
    assert kept.status_code == 200, kept.get_json()
    session.refresh(variant)
    assert variant.reference_lab_l is not None and variant.reference_measured_at is not None
    assert abs(variant.reference_lab_l - frame.piece_lab[0]) < 3
    session.commit()  # end the read: on SQLite it holds the write lock

    # The same piece under another light: the snapshot sent carries the comparison.
    daylight = scene.render("cool daylight", piece_srgb8=SKY, seed=6)
    dx, dy = (f"{v:.4f}" for v in daylight.piece_centre)
    sent = post(
        anna,
        f"/console/live/{live.id}/snapshot",
        daylight.rgb,
        colour="1",
        x=dx,
        y=dy,
        variant_id=str(variant.id),
        caption="On the shoulder",
    )
    assert sent.status_code == 201, sent.get_json()
    report = sent.get_json()["message"]["colour"]
    assert report["variant"]["source"] == "measured"
    assert report["comparison"]["verdict"] == "same" and report["comparison"]["delta_e"] < 3
    # The shopper's history has it too, with the picture served as corrected.
    history = client.get(f"/api/live-sessions/{live.id}/messages")
    assert history.status_code == 200, history.get_json()
    assert history.get_json()[-1]["colour"] == report
    # Its copy in the shopper's one thread keeps the figures (thread-view.js shows them).
    mine = client.get(f"/api/brands/{team.brand.id}/thread").get_json()["messages"]
    kept_copy = [m for m in mine if m["kind"] == "photo"]
    assert kept_copy and kept_copy[-1]["colour"] == report
    picture = client.get(sent.get_json()["message"]["attachment_url"])
    assert picture.status_code == 200
    assert analyse(np.asarray(Image.open(BytesIO(picture.data)).convert("RGB"))).delta_e_mean < 3.0
    session.commit()


def test_without_the_card_it_says_so_and_sends_the_camera_picture(
    app: Flask, client: FlaskClient, session: Session, team: Team, factory: Factory
) -> None:
    live = consultation(client, session, team)
    anna = app.test_client()
    login(anna, factory.user_of(team.anna).email)
    bare = scene.render("green tint", with_card=False).rgb
    answer = post(anna, f"/console/live/{live.id}/colour", bare).get_json()
    assert answer == {
        "found": False,
        "message": "No reference card in view: hold it beside the piece, facing the camera.",
    }
    sent = post(anna, f"/console/live/{live.id}/snapshot", bare, colour="1")
    assert sent.status_code == 201
    assert sent.get_json()["message"]["colour"] is None
    variant = sky_variant(factory, team)
    refused = post(anna, f"/console/variants/{variant.id}/reference-colour", bare, x="0.2", y="0.5")
    assert refused.status_code == 422
    assert "No reference card in view" in refused.get_json()["message"]
    session.refresh(variant)
    assert variant.reference_lab_l is None
    session.commit()


def test_bad_input_is_a_4xx_in_words(
    app: Flask, client: FlaskClient, session: Session, team: Team, factory: Factory
) -> None:
    live = consultation(client, session, team)
    anna = app.test_client()
    login(anna, factory.user_of(team.anna).email)
    frame = scene.render("cool daylight", seed=7).rgb
    other_brand_variant = factory.variants(factory.product(factory.brand()))[0]
    session.commit()
    url = f"/console/live/{live.id}/colour"
    cases = [
        (url, None, {}, 422),
        (url, b"not a picture", {}, 422),
        (url, frame, {"x": "2", "y": "0.5"}, 422),
        (url, frame, {"x": "left", "y": "top"}, 422),
        (url, frame, {"variant_id": "1"}, 422),  # a variant but no point
        (url, frame, {"x": "0.5", "y": "0.5", "variant_id": "abc"}, 422),
        (url, frame, {"x": "0.5", "y": "0.5", "variant_id": str(other_brand_variant.id)}, 404),
        ("/console/variants/999999/reference-colour", frame, {"x": "0.5", "y": "0.5"}, 404),
    ]
    for target, image, form, status in cases:
        answer = post(anna, target, image, **form)
        assert answer.status_code == status, (form, answer.get_data(as_text=True)[:300])
        assert answer.get_json()["message"]
    session.commit()
