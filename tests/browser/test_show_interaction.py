"""A show's poll and questions in real Chromium, on a real web node: the host opens a poll
in the console; a viewer on a phone votes and sees the results; the host's console sees
the vote by push; the viewer asks a question, the host sees it and marks it answered on
air, and it is pinned over the viewer's video. Both pages are axe clean."""

from __future__ import annotations

from typing import Any

import pytest

from sessions.shows import lifecycle
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, sign_in
from tests.factories import OPERATOR, Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser]
WAIT = 30_000  # ms: a loaded machine (2 cores, several suites) is slow, never wrong


def test_a_viewer_votes_and_asks_and_the_host_sees_and_answers(
    web_only: WebServer, seed: Factory, chromium: Any
) -> None:
    brand = seed.brand(name="Maison Aurèle")
    host = seed.associate(brand, name="Camille")
    show = seed.show(brand, title="The autumn edit", host_ids=[host.id])
    lifecycle.do_start_show(seed.session, OPERATOR, show)
    seed.session.commit()
    base = web_only.url

    console_context = chromium.new_context(**DESKTOP)
    viewer_context = chromium.new_context(**PHONE)
    try:
        console = console_context.new_page()
        sign_in(console, base, seed.user_of(host).email, f"/console/shows/{show.id}")
        console.wait_for_selector("#show-poll #poll-form", timeout=WAIT)
        viewer = viewer_context.new_page()
        viewer.goto(f"{base}/b/{brand.slug}/shows/{show.id}")
        viewer.wait_for_selector("#show-root[data-socket='live']", timeout=WAIT)

        # The host opens a poll; the viewer's page shows it by push.
        console.get_by_label("Question", exact=True).fill("Which colour next?")
        console.get_by_placeholder("Answer 1", exact=True).fill("Ivory")
        console.get_by_placeholder("Answer 2", exact=True).fill("Noir")
        console.get_by_role("button", name="Open the poll").click()
        console.wait_for_selector("#poll-close", timeout=WAIT)
        noir = viewer.locator("#show-poll button", has_text="Noir")
        noir.wait_for(timeout=WAIT)
        noir.click()
        viewer.get_by_text("Noir (your vote)").wait_for(timeout=WAIT)
        console.wait_for_function(
            "() => (document.getElementById('poll-meta') || {})"
            ".textContent?.startsWith('1 vote · ')",
            timeout=WAIT,
        )

        # The viewer asks; the host sees it, answers it on air; it is pinned over the video.
        viewer.get_by_label("Ask the host").fill("Does the Lune bag come in green?")
        viewer.get_by_role("button", name="Ask", exact=True).click()
        asked = console.locator("#question-list li", has_text="Does the Lune bag come in green?")
        asked.wait_for(timeout=WAIT)
        asked.get_by_role("button", name="Answered on air").click()
        pinned = viewer.locator(".stage #pinned-question")
        pinned.wait_for(state="visible", timeout=WAIT)
        assert "Does the Lune bag come in green?" in pinned.text_content()
        assert viewer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        for page in (viewer, console):
            assert axe_violations(page) == [], page.url
    finally:
        console_context.close()
        viewer_context.close()
