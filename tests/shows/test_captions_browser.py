"""Captions in real Chromium: a published replay without captions offers no captions
button; the brand's admin uploads a WebVTT file on the show's admin page (a bad one is
refused in words); the replay then offers the button, off by default; turned on, the cue
of a second is the one shown at that second; the choice is remembered after a reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sessions.shows import lifecycle
from streaming.media_files import write_marker
from tests.browser.conftest import (  # noqa: F401  (the fixtures, reused)
    PHONE,
    Relay,
    axe_violations,
    db_session,
    relay,
    seed,
    sign_in,
    web,
)
from tests.factories import Factory
from tests.servers import WebServer
from tests.shows.conftest import staff_actor
from tests.shows.test_replay_browser import write_recording

VTT = (
    "WEBVTT\n\n"
    "00:00:01.000 --> 00:00:03.000\nBienvenue à la Maison Aurèle.\n\n"
    "00:00:04.000 --> 00:00:07.000\nLe sac Lune, en cuir grainé.\n"
)


def active_cue(page: Any) -> str:
    return page.evaluate(
        "() => { const t = [...document.getElementById('replay').textTracks]"
        ".find((x) => x.mode === 'showing'); if (!t || !t.activeCues) return '';"
        " return [...t.activeCues].map((c) => c.text).join(' / '); }"
    )


def at_second(page: Any, second: float) -> None:
    page.evaluate(f"document.getElementById('replay').currentTime = {second}")
    page.wait_for_function(
        f"Math.abs(document.getElementById('replay').currentTime - {second}) < 0.2"
        " && !document.getElementById('replay').seeking",
        timeout=15_000,
    )


@pytest.mark.browser
@pytest.mark.media
def test_captions_upload_toggle_and_a_cue_at_its_second(
    seed: Factory,  # noqa: F811
    web: WebServer,  # noqa: F811
    relay: Relay,  # noqa: F811
    chromium: Any,
    tmp_path: Path,
) -> None:
    db = seed.session
    brand = seed.brand(name="Maison Aurèle")
    host = seed.associate(brand)
    admin = seed.admin(brand)
    zero = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    show = seed.show(brand, title="Captioned", starts_at=zero, allow_past=True, host_ids=[host.id])
    live = seed.live_session(show)
    host_actor = staff_actor(seed.user_of(host), host)
    lifecycle.do_start_show(db, host_actor, show)
    name = f"{live.room}-{zero.strftime('%Y%m%dT%H%M%SZ')}.mp4"
    write_recording(tmp_path / "media" / "recordings" / name)
    write_marker(tmp_path / "media", live.room, public=True, record=True)
    lifecycle.do_end_show(db, host_actor, show, replay_url=f"{relay.url}/recordings/{name}")
    lifecycle.do_publish_replay(db, staff_actor(admin), show)
    show_url = f"{web.url}/b/{brand.slug}/shows/{show.id}"
    admin_path, admin_email = f"/admin/shows/{show.id}", admin.email
    db.commit()

    viewer = chromium.new_context(**PHONE)
    staff = chromium.new_context()
    try:
        page = viewer.new_page()
        page.goto(show_url)
        page.wait_for_function("document.getElementById('replay').readyState >= 1", timeout=20_000)
        assert page.locator("#captions").is_hidden()  # no captions, no button

        # The admin uploads: a bad file first (refused in words), then the right one.
        bad, good = tmp_path / "bad.vtt", tmp_path / "show.vtt"
        bad.write_text("1\n00:00:01,000 --> 00:00:02,000\nAn SRT file\n")
        good.write_text(VTT)
        admin_page = staff.new_page()
        sign_in(admin_page, web.url, admin_email, admin_path)
        admin_page.get_by_label("WebVTT file (.vtt)").set_input_files(str(bad))
        admin_page.get_by_role("button", name="Upload captions").click()
        admin_page.get_by_text("its first line must be WEBVTT").wait_for()
        admin_page.locator("#f-language").select_option(label="Français")
        admin_page.get_by_label("WebVTT file (.vtt)").set_input_files(str(good))
        admin_page.get_by_role("button", name="Upload captions").click()
        admin_page.get_by_text("Français · 2 cues").wait_for()
        assert axe_violations(admin_page) == []

        # The viewer's replay: the button, off; on, the cue of each second.
        page.reload()
        page.wait_for_function("document.getElementById('replay').readyState >= 1", timeout=20_000)
        button = page.get_by_role("button", name="Captions")
        assert button.is_visible() and button.get_attribute("aria-pressed") == "false"
        assert page.evaluate(
            "[...document.getElementById('replay').textTracks].every((t) => t.mode !== 'showing')"
        )
        button.tap()
        assert button.get_attribute("aria-pressed") == "true"
        at_second(page, 5)
        page.wait_for_function(
            "[...document.getElementById('replay').textTracks].some((t) => t.mode === 'showing'"
            " && t.activeCues && t.activeCues.length)",
            timeout=10_000,
        )
        assert active_cue(page) == "Le sac Lune, en cuir grainé."
        at_second(page, 2)
        page.wait_for_function(
            "[...[...document.getElementById('replay').textTracks].find((t) => t.mode === "
            "'showing').activeCues].map((c) => c.text).join('')"
            " === 'Bienvenue à la Maison Aurèle.'",
            timeout=10_000,
        )
        assert axe_violations(page) == []

        # Remembered on this device: on again after a reload; off stays off.
        page.reload()
        page.wait_for_function("document.getElementById('replay').readyState >= 1", timeout=20_000)
        assert button.get_attribute("aria-pressed") == "true"
        button.tap()
        page.reload()
        page.wait_for_function("document.getElementById('replay').readyState >= 1", timeout=20_000)
        assert button.get_attribute("aria-pressed") == "false"
    finally:
        viewer.close()
        staff.close()
