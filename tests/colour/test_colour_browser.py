"""In real Chromium, through the real relay: the associate's camera sees the reference card
and a sky-blue piece under warm tungsten light; they take a snapshot in a consultation,
see it corrected, tap the piece, name its variant and send it; the shopper sees the
corrected picture with the card's ΔE and the measured colour against the catalogue's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from itsdangerous import URLSafeTimedSerializer
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.colour import scene
from sessions.models import (
    ChatMessage,
    ConsultationConsent,
    LiveSession,
    SessionKind,
    SessionStatus,
)
from tests.booking.conftest import staff
from tests.browser.conftest import (  # noqa: F401  (relay: a fixture)
    PHONE,
    RELAY_TOKEN,
    SCREENSHOTS,
    Relay,
    axe_violations,
    relay,
    take_screenshots,
)
from tests.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CSP_VIOLATIONS,
    _allow_waiting_under_csp,
    _watch_csp,
)
from tests.factories import Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG = 45_000  # ms: video through the relay on a loaded machine
SKY = (118, 170, 222)
# The associate's camera at its full size: the sender's first frames are scaled down while
# its bandwidth estimate ramps up, and a snapshot of those is coarser. On a machine short of
# CPU, Chromium may keep it scaled down for good: then half size (the card is still read).
VIDEO_WIDER_THAN = """(width) => {
  const v = document.querySelector('video[data-remote]');
  return v && v.videoWidth >= width && v.readyState >= 2;
}"""


def write_y4m(path: Path, frames: list[np.ndarray]) -> None:
    """A fake camera file for Chromium (--use-file-for-fake-video-capture), looped: 4:2:0,
    BT.601, as a webcam's driver hands frames to the browser."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())


@pytest.fixture(scope="module")
def card_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, scene.Scene]]:
    """Chromium whose fake camera films the card and the piece under tungsten light."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    # A sensor's frames: the same view, each with its own noise (a file of one frame looped
    # would freeze the noise, which no camera does), not JPEG-encoded (the browser encodes).
    views = [
        scene.render(
            "warm tungsten", size=(640, 480), piece_srgb8=SKY, seed=9, noise_seed=k, jpeg=False
        )
        for k in range(8)
    ]
    view = views[0]
    camera = tmp_path_factory.mktemp("camera") / "card.y4m"
    write_y4m(camera, [v.rgb for v in views])
    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera}"]
    CSP_VIOLATIONS.clear()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        _watch_csp(browser)
        _allow_waiting_under_csp()
        yield browser, view
        browser.close()


def test_a_corrected_snapshot_reaches_the_shopper_with_its_measured_colour(
    database_url: str,
    tmp_path: Path,
    factory: Factory,
    session: Session,
    relay: Relay,  # noqa: F811
    card_camera: tuple[Any, scene.Scene],
) -> None:
    browser, view = card_camera
    team = staff(factory, session)
    product = factory.product(team.brand, name="Carré de soie")
    variant = factory.variants(product)[0]
    variant.colour = "Sky blue"
    # Measured earlier with the card (by the catalogue): the piece's true colour.
    variant.reference_lab_l, variant.reference_lab_a, variant.reference_lab_b = (
        float(v) for v in view.piece_lab
    )
    variant.reference_card_delta_e, variant.reference_measured_at = 0.8, utcnow()
    shopper = factory.shopper()
    live = LiveSession(
        brand_id=team.brand.id,  # type: ignore[arg-type]
        kind=SessionKind.CONSULTATION,
        shopper_id=shopper.id,
        associate_id=team.anna.id,
        room="consult-colour-browser",
        status=SessionStatus.WAITING,
    )
    session.add_all([variant, live])
    session.commit()
    # The shopper agreed to keep the pictures (sessions/privacy/consent.py; its page: tested there).
    session.add(ConsultationConsent(live_session_id=live.id, shopper_id=shopper.id, accepted=True))
    session.commit()
    email = factory.user_of(team.anna).email
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    token = URLSafeTimedSerializer("test-secret-key", salt="vitrine.consult.enter").dumps(
        [live.id, shopper.id]
    )
    env = {"RELAY_URL": relay.url, "RELAY_INTERNAL_TOKEN": RELAY_TOKEN}
    with WebServer(database_url, tmp_path, env=env, create_schema=False) as server:
        shopper_page = browser.new_context(**PHONE).new_page()
        shopper_page.goto(f"{server.url}/consult/{live.id}/enter/{token}")
        shopper_page.locator("[data-room-state]").filter(has_text="to let you in").wait_for()

        associate = browser.new_context(**PHONE).new_page()
        associate.goto(f"{server.url}/login?next=/console/consult/{live.id}")
        associate.fill("input[name=email]", email)
        associate.fill("input[name=password]", Factory.PASSWORD)
        associate.click("button[type=submit]")
        associate.locator("[data-admit]").click()
        try:
            shopper_page.wait_for_function(VIDEO_WIDER_THAN, arg=640, timeout=LONG)
        except PlaywrightTimeout:
            shopper_page.wait_for_function(VIDEO_WIDER_THAN, arg=320, timeout=LONG)

        # The snapshot: the relay's frame, corrected on the server against the card.
        snap = associate.locator("[data-snapshot]")
        result = snap.locator("[data-colour-result]")
        for _attempt in range(10):  # the first frames may still be the encoder's low start
            associate.locator("[data-snapshot-take]").click()
            result.locator("[data-colour-card], [data-colour-none]").first.wait_for(timeout=LONG)
            if snap.get_attribute("data-colour") == "corrected":
                break
            shopper_page.wait_for_timeout(1000)  # the next frames: nothing to await on
        assert snap.get_attribute("data-colour") == "corrected", result.inner_text()
        assert "average on the card" in result.inner_text()

        # Tap the piece, name its variant: measured against the catalogue's colour.
        image = snap.locator("[data-snapshot-image]")
        box = image.bounding_box()
        assert box is not None
        x, y = view.piece_centre
        associate.select_option("[data-colour-variant]", str(variant.id))
        image.click(position={"x": box["width"] * x, "y": box["height"] * y})
        verdict = result.locator("[data-colour-verdict]")
        verdict.wait_for(timeout=LONG)
        assert associate.evaluate("document.documentElement.scrollWidth") <= 390
        assert axe_violations(associate) == []
        if take_screenshots():
            snap.screenshot(path=str(SCREENSHOTS / "colour-console-phone.png"))
        associate.locator("[data-snapshot-send]").click()

        # The shopper: the corrected picture, the card's ΔE, the swatches and the words.
        sent = shopper_page.locator("[data-chat] li", has=shopper_page.locator("img.snapshot"))
        sent.locator("[data-colour-verdict]").wait_for(timeout=LONG)
        text = sent.inner_text()
        assert "average on the card" in text
        assert (
            "Measured on the piece" in text and "Catalogue colour, Carré de soie · Sky blue" in text
        )
        # Through the real camera path (4:2:0, VP8, the relay's decode) the bound
        # holds for the piece (within ΔE2000 3 of its true colour) and the card's average
        # (the relay's colour snapshot: a lossless mean of two seconds of frames,
        # docs/colour.md). A single patch is at the codec's mercy: the card's darkest
        # patches reached 3.1-4.3 on a loaded machine (under tungsten one 8-bit step of
        # their blue is ~3 once corrected; CI saw 4.3 with the average at 0.6). The worst
        # patch is held under 6, which still fails a card read from the wrong places (a
        # patch read from its neighbour is off by far more). The words follow the
        # figure shown.
        shown = re.search(r"\(ΔE2000 (\d+\.\d)\)", text)
        assert shown and float(shown.group(1)) < 3.0, text
        stored = session.exec(
            select(ChatMessage).where(ChatMessage.live_session_id == live.id)
        ).all()
        session.commit()
        reports = [m.colour_report for m in stored if m.colour_report]
        assert len(reports) == 1, reports
        assert reports[0]["card_delta_e"] < 3.0 and reports[0]["card_delta_e_max"] < 6.0, reports
        verdict = sent.locator("[data-colour-verdict]").get_attribute("data-colour-verdict")
        if verdict == "same":  # under 2 (shown rounded to one decimal)
            assert float(shown.group(1)) <= 2.0 and "Within what an eye can tell apart" in text
        else:
            assert verdict == "noticeable" and float(shown.group(1)) >= 2.0, text
            assert "Noticeably" in text
        # The picture arrives after its message: wait for the browser to have decoded it
        # (checked at once, it was sometimes still loading on a busy machine: CI, 3 Dec).
        shopper_page.locator("img.snapshot").wait_for(timeout=LONG)
        shopper_page.wait_for_function(
            "() => [...document.querySelectorAll('img.snapshot')]"
            ".some(i => i.complete && i.naturalWidth > 0)",
            timeout=LONG,
        )
        assert shopper_page.evaluate("document.documentElement.scrollWidth") <= 390
        if take_screenshots():
            sent.scroll_into_view_if_needed()
            sent.screenshot(path=str(SCREENSHOTS / "colour-snapshot-phone.png"))
    assert CSP_VIOLATIONS == [], "the page broke the Content-Security-Policy"
