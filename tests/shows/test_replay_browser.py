"""The shoppable replay in real Chromium: a scripted show (pins, messages, a poll and an
answered question at known seconds of its recording) is ended and published; the replay
page lists each product at its second, seeking there shows that product, the chat as it
was at that second, the poll (final results) from the second it was opened and the
question pinned from the second it was answered — each absent one second before its
moment and there at it (±1 s) — and "add to bag" works from the replay at the price the
brand chose (the live one here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from sessions.catalogue import do_update_product
from sessions.models import (
    ChatMessage,
    PinnedProduct,
    Poll,
    PollAnswer,
    PollVote,
    Product,
    ShowQuestion,
)
from sessions.shows import lifecycle
from streaming.media_files import write_marker
from tests.browser.conftest import (  # noqa: F401  (the fixtures, reused)
    PHONE,
    SCREENSHOTS,
    Relay,
    axe_violations,
    db_session,
    relay,
    seed,
    take_screenshots,
    web,
)
from tests.factories import Factory
from tests.servers import WebServer
from tests.shows.conftest import staff_actor

SECONDS = 12
FPS = 10


def write_recording(path: Path) -> None:
    """A real H.264 MP4 of SECONDS seconds, as the relay's recorder would leave it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        stream.codec_context.options = {"g": str(FPS)}  # a keyframe every second: exact seeks
        for n in range(SECONDS * FPS):
            image = np.full((180, 320, 3), (n * 2) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.mark.browser
@pytest.mark.media
def test_replay_plays_the_chat_and_the_products_at_their_seconds(
    seed: Factory,  # noqa: F811
    web: WebServer,  # noqa: F811
    relay: Relay,  # noqa: F811
    chromium: Any,
    tmp_path: Path,
) -> None:
    db = seed.session
    brand = seed.brand(name="Maison Aurèle")
    assert brand.replay_price == "live"  # the default: a replay sells at the live price
    host = seed.associate(brand)
    lune = seed.product(brand, name="Le sac Lune", sizes=("S", "M"), stock=4, price_minor=245000)
    carre = seed.product(brand, name="Carré Soie", stock=3, price_minor=42000)
    zero = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    show = seed.show(
        brand, title="The Lune, live", starts_at=zero, allow_past=True, host_ids=[host.id]
    )
    live = seed.live_session(show)
    host_actor = staff_actor(seed.user_of(host), host)
    lifecycle.do_start_show(db, host_actor, show)
    # The relay names a recording after its room and the second it opened: second 0.
    name = f"{live.room}-{zero.strftime('%Y%m%dT%H%M%SZ')}.mp4"
    write_recording(tmp_path / "media" / "recordings" / name)
    write_marker(tmp_path / "media", live.room, public=True, record=True)

    # The script: what the live show stored, at known seconds of the recording.
    at = lambda s: zero + timedelta(seconds=s)  # noqa: E731
    assert live.id is not None and lune.id is not None and carre.id is not None
    db.add(
        PinnedProduct(
            live_session_id=live.id,
            product_id=lune.id,
            price_minor=245000,
            pinned_at=at(3),
            unpinned_at=at(9),
        )
    )
    db.add(
        PinnedProduct(
            live_session_id=live.id, product_id=carre.id, price_minor=42000, pinned_at=at(7)
        )
    )
    for second, author, body in (
        (1, "Camille", "Welcome to the show!"),
        (4, "Ines", "Is the Lune lined in suede?"),
        (8, "Camille", "Now the Carré, in silk twill."),
    ):
        db.add(
            ChatMessage(
                live_session_id=live.id, author_name=author, body=body, created_at=at(second)
            )
        )
    # A poll opened at 5 s and closed at 6 s (two votes for Ivory, one for Noir), and a
    # question asked at 2 s and answered on air at 6 s.
    poll = Poll(
        live_session_id=live.id,
        question="Which colour for the Lune?",
        created_at=at(5),
        closes_at=at(6),
        closed_at=at(6),
    )
    db.add(poll)
    db.flush()
    assert poll.id is not None
    ivory = PollAnswer(poll_id=poll.id, position=0, label="Ivory")
    noir = PollAnswer(poll_id=poll.id, position=1, label="Noir")
    db.add_all([ivory, noir])
    db.flush()
    for answer in (ivory, ivory, noir):
        voter = seed.shopper()
        assert answer.id is not None and voter.id is not None
        db.add(
            PollVote(poll_id=poll.id, answer_id=answer.id, shopper_id=voter.id, created_at=at(5))
        )
    db.add(
        ShowQuestion(
            live_session_id=live.id,
            author_name="Ines",
            body="Does the Lune come with a strap?",
            created_at=at(2),
            answered_at=at(6),
        )
    )
    db.commit()
    lifecycle.do_end_show(db, host_actor, show, replay_url=f"{relay.url}/recordings/{name}")
    lifecycle.do_publish_replay(db, staff_actor(seed.admin(brand)), show)
    # Since the show, the Lune costs more: the replay still sells it at its live price.
    product = db.get(Product, lune.id)
    assert product is not None
    do_update_product(db, product, price_minor=260000)
    db.commit()

    context = chromium.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
        page.wait_for_function(
            "() => { const v = document.getElementById('replay'); return v && v.readyState >= 1; }",
            timeout=20_000,
        )
        assert page.text_content("#state-badge") == "Replay"
        timeline = page.locator("#timeline [data-seek]")
        assert [" ".join(t.split()) for t in timeline.all_inner_texts()] == [
            "0:03 Le sac Lune",
            "0:07 Carré Soie",
        ]
        assert [float(x.get_attribute("data-seek") or "") for x in timeline.all()] == [3.0, 7.0]

        # The script's moments are the recording's seconds (±1 s; here exact).
        script = page.evaluate("JSON.parse(document.getElementById('replay-script').textContent)")
        moments = {
            "pins": [p["at"] for p in script["products"]],
            "chat": [m["at"] for m in script["messages"]],
            "poll": [p["at_seconds"] for p in script["polls"]],
            "asked": [q["at_seconds"] for q in script["questions"]],
            "answered": [q["answered_at_seconds"] for q in script["questions"]],
        }
        expected = {"pins": [3, 7], "chat": [1, 4, 8], "poll": [5], "asked": [2], "answered": [6]}
        for kind, seconds in expected.items():
            assert len(moments[kind]) == len(seconds), kind
            for got, want in zip(moments[kind], seconds, strict=True):
                assert abs(got - want) <= 1.0, (kind, got, want)

        def seek(second: float) -> None:
            page.evaluate(f"document.getElementById('replay').currentTime = {second}")

        def seen_at(second: float, within: float = 0.2) -> tuple[list[str], list[str]]:
            """What the page shows once the video is at ``second`` (to ``within`` past
            it): paused in the very check, so a playing video (after a timeline jump)
            stays inside the window however late the check runs."""
            page.wait_for_function(
                "() => { const v = document.getElementById('replay');"
                f" const ok = !v.seeking && v.currentTime >= {second} - 0.05"
                f" && v.currentTime < {second} + {within};"
                " if (ok) v.pause(); return ok; }",
                timeout=15_000,
            )
            return (
                page.locator("#pinned .product-card h3").all_inner_texts(),
                page.locator("#messages .body").all_inner_texts(),
            )

        def poll_and_question() -> tuple[str, str, list[str]]:
            pinned = page.locator("#pinned-question")
            return (
                page.inner_text("#poll-current"),
                pinned.inner_text() if pinned.is_visible() else "",
                page.locator("#question-list li > span:first-child").all_inner_texts(),
            )

        # Each moment: absent one second before it, there at it.
        for second, product_count, chat_count in (
            (2, 0, 1),
            (3, 1, 1),
            (4, 1, 2),
            (6, 1, 2),
            (7, 2, 2),
        ):
            seek(second)
            products, chat = seen_at(second)
            assert (len(products), len(chat)) == (product_count, chat_count), second
        seek(1.0)
        assert seen_at(1.0) == ([], ["Welcome to the show!"])
        assert poll_and_question() == ("No poll right now.", "", [])
        seek(2.0)
        seen_at(2.0)
        assert poll_and_question()[2] == ["Does the Lune come with a strap?"]
        seek(4.0)
        seen_at(4.0)
        assert poll_and_question()[:2] == ("No poll right now.", "")
        seek(5.0)
        seen_at(5.0)
        poll_text, pinned_text, _ = poll_and_question()
        assert "Which colour for the Lune?" in poll_text
        assert "3 votes · final results" in poll_text
        assert "Ivory" in poll_text and "2 · 67%" in poll_text and "1 · 33%" in poll_text
        assert page.locator("#poll-current button[data-answer]").count() == 0  # no ballot
        assert pinned_text == ""  # answered at 6 s, not yet
        seek(6.0)
        seen_at(6.0)
        assert "Does the Lune come with a strap?" in poll_and_question()[1]
        seek(0.5)
        seen_at(0.5)
        assert poll_and_question() == ("No poll right now.", "", [])

        # Jump to "when she showed the Lune": that product, and the chat up to then.
        timeline.first.click()
        products, chat = seen_at(3, within=0.9)
        assert products == ["Le sac Lune"]
        assert chat == ["Welcome to the show!"]
        seek(8.2)
        products, chat = seen_at(8.2)
        assert products == ["Carré Soie", "Le sac Lune"]
        assert chat == [
            "Welcome to the show!",
            "Is the Lune lined in suede?",
            "Now the Carré, in silk twill.",
        ]
        seek(0.5)  # and back
        assert seen_at(0.5) == ([], [])

        # Add to bag from the replay, from the moment the Lune was on: at the live price.
        page.locator("#timeline [data-seek='3.0']").click()
        seen_at(3, within=0.9)
        card = page.locator(".player-side .product-card[data-product-id]").first
        assert "€2,450.00" in card.inner_text()
        card.get_by_role("button", name="Shop Le sac Lune").click()
        sheet = page.locator("#sheet")
        sheet.get_by_label("Size / colour").select_option(label="S · Black — 4 left")
        sheet.get_by_role("button", name="Add to bag").click()
        page.wait_for_function(
            "document.querySelector('[data-bag-count]').textContent.trim() === '1'"
        )
        sheet.locator("[data-bag-total]").get_by_text("€2,450.00").wait_for()
        assert axe_violations(page) == []
        if take_screenshots():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.get_by_role("button", name="Close").click()
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(SCREENSHOTS / "replay-phone.png"))
    finally:
        context.close()
