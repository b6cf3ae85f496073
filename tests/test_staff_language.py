"""A staff member's console language: chosen in My settings, kept on their account, so it
holds after signing out and in again on another browser whatever that browser asks for;
"my browser's language" goes back to Accept-Language; `?lang=` still wins for one page;
a language that is not offered is refused with a message."""

from __future__ import annotations

import json
import re

from flask import Flask
from sqlmodel import Session

from sessions.models import User
from tests.conftest import login
from tests.factories import Factory

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def page_strings(html: str) -> dict[str, str]:
    """The words a page gives its scripts (web/js_strings.py)."""
    found = re.search(r'<script type="application/json" id="page-strings">(.*?)</script>', html)
    assert found, "no page-strings block"
    words: dict[str, str] = json.loads(found.group(1))
    return words


def test_the_language_chosen_in_the_settings_follows_the_staff_member(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    associate = factory.associate(brand, factory.store(brand, timezone="Asia/Shanghai"))
    user = factory.user_of(associate)
    email, user_id = user.email, user.id
    session.commit()

    first = app.test_client()
    login(first, email)
    page = first.get("/console/settings", headers=ENGLISH)
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "Language of my console" in page.text
    chosen = first.post(
        "/console/settings", data={"language": "zh_Hans"}, headers=ENGLISH, follow_redirects=True
    )
    assert chosen.status_code == 200
    assert (
        '<html lang="zh-Hans">' in chosen.text and "您的控制台现已切换为简体中文。" in chosen.text
    )
    assert "上海" in chosen.text  # the store's zone, named in Chinese
    session.expire_all()
    stored = session.get(User, user_id)
    assert stored is not None and stored.language == "zh_Hans"
    session.commit()
    first.post("/logout")

    # Another browser, in English: after signing in, the console is in Chinese.
    second = app.test_client()
    assert '<html lang="en">' in second.get("/login", headers=ENGLISH).text
    login(second, email)
    inbox = second.get("/console/inbox", headers=ENGLISH)
    assert (
        '<html lang="zh-Hans">' in inbox.text and '<h1 id="inbox-title">收件箱</h1>' in inbox.text
    )
    assert page_strings(inbox.text)["typing"] == "顾客正在输入…"  # the script's words
    # ?lang= is for the one page that asks; the account's choice is untouched.
    assert '<html lang="fr">' in second.get("/console/inbox?lang=fr", headers=ENGLISH).text
    assert '<html lang="zh-Hans">' in second.get("/console/", headers=ENGLISH).text

    # A language Vitrine does not offer: refused, readable, nothing changed.
    refused = second.post("/console/settings", data={"language": "tlh"}, headers=ENGLISH)
    assert refused.status_code == 422 and "请选择所提供的语言之一。" in refused.text
    # Back to the browser's language.
    back = second.post(
        "/console/settings", data={"language": ""}, headers=ENGLISH, follow_redirects=True
    )
    assert '<html lang="en">' in back.text and "your browser&#39;s language" in back.text
    french = second.get("/console/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr">' in french.text and "<h1>Émissions en direct</h1>" in french.text
    session.expire_all()
    stored = session.get(User, user_id)
    assert stored is not None and stored.language is None
    session.commit()


def test_settings_ask_for_a_signed_in_staff_member(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/console/settings").status_code == 302
    assert client.post("/console/settings", data={"language": "fr"}).status_code == 302
