"""Captions of a replay (sessions/shows/captions.py): the brand's admin uploads a WebVTT
file per language from the show's admin page; a bad file answers 422 with what is wrong
beside the field (never a 500, nothing kept); the replay page then carries one <track> per
language (none `default`) and its .vtt answers whoever may watch the replay, 404 to anyone
else. On SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlmodel import select

from sessions.errors import InvalidInput
from sessions.models import ShowCaption, ShowStatus
from sessions.shows import captions
from tests.conftest import csrf_token_from
from tests.shows.conftest import Cast

GOOD = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:03.500\nBienvenue à la Maison.\n\n"
    "00:00:04.000 --> 00:00:06.000\nLe sac Lune, en cuir grainé.\n"
).encode()
BAD = {
    b"": "empty",
    b"\xff\xfe\x00W": "not UTF-8",
    b"1\n00:00:01,000 --> 00:00:02,000\nAn SRT file\n": "first line must be WEBVTT",
    b"WEBVTT\n\n00:00:01.000 --> soon\nBroken\n": "malformed",
    b"WEBVTT\n\nNOTE only a note\n": "no cue",
    b"WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nBackwards\n": "ends before it starts",
}


def test_a_webvtt_file_is_checked_before_it_is_kept(cast: Cast) -> None:
    text, count = captions.parse_vtt(b"\xef\xbb\xbf" + GOOD.replace(b"\n", b"\r\n"))
    assert count == 2 and text.startswith("WEBVTT\n") and "\r" not in text
    for raw, words in BAD.items():
        with pytest.raises(InvalidInput) as refused:
            captions.parse_vtt(raw)
        assert words in refused.value.message and refused.value.details["field"] == "captions"
    with pytest.raises(InvalidInput):
        captions.parse_vtt(b"WEBVTT\n\n" + b"x" * (captions.MAX_BYTES + 1))


def test_only_the_brand_admin_sets_captions(cast: Cast) -> None:
    show = cast.show_in(ShowStatus.ENDED)
    for who in ("host", "colleague", "other_admin", "shopper", "anonymous"):
        with pytest.raises(Exception) as refused:
            captions.do_set_captions(cast.session, cast.actors[who], show, "fr", GOOD, user_id=None)
        assert getattr(refused.value, "status", None) in (401, 403), who
    cast.session.rollback()
    row = captions.do_set_captions(
        cast.session, cast.actors["admin"], show, "fr", GOOD, user_id=None
    )
    assert row.cue_count == 2
    with pytest.raises(InvalidInput):
        captions.do_set_captions(cast.session, cast.actors["admin"], show, "xx", GOOD, user_id=None)
    cast.session.rollback()
    again = captions.do_set_captions(
        cast.session,
        cast.actors["admin"],
        show,
        "fr",
        GOOD.replace(b"Lune", b"Soleil"),
        user_id=None,
    )
    assert again.id == row.id and "Soleil" in again.vtt  # replaced, one per language
    assert [c["language"] for c in captions.captions_of(cast.session, show)] == ["fr"]
    captions.do_remove_captions(cast.session, cast.actors["admin"], show, "fr")
    assert captions.captions_of(cast.session, show) == []


def upload(app: Flask, cast: Cast, show_id: int, raw: bytes, language: str = "fr"):  # type: ignore[no-untyped-def]
    http = cast.client(app, "admin")
    page = http.get(f"/admin/shows/{show_id}")
    assert page.status_code == 200 and b"Upload captions" in page.data
    return http, http.post(
        f"/admin/shows/{show_id}/captions",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "language": language,
            "captions": (io.BytesIO(raw), "show.vtt"),
        },
        content_type="multipart/form-data",
    )


def test_the_admin_page_uploads_and_refuses_in_words(app: Flask, cast: Cast) -> None:
    show = cast.show_in(ShowStatus.REPLAY_PUBLISHED)
    assert show.id is not None
    http, refused = upload(app, cast, show.id, b"WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nx\n")
    assert refused.status_code == 422
    assert "ends before it starts" in refused.get_data(as_text=True)
    assert cast.session.exec(select(ShowCaption)).all() == []
    cast.session.commit()
    _, saved = upload(app, cast, show.id, GOOD)
    assert saved.status_code == 302
    page = http.get(f"/admin/shows/{show.id}").get_data(as_text=True)
    assert "Français · 2 cues" in page

    # The replay page: one track, not default; its file to whoever may watch the replay.
    viewer = cast.client(app, "shopper")
    replay = viewer.get(f"/b/{cast.brand.slug}/shows/{show.id}").get_data(as_text=True)
    assert '<track kind="captions" srclang="fr"' in replay and " default" not in replay
    vtt = viewer.get(f"/b/{cast.brand.slug}/shows/{show.id}/captions/fr.vtt")
    assert vtt.status_code == 200 and vtt.mimetype == "text/vtt"
    assert "Le sac Lune" in vtt.get_data(as_text=True)
    assert viewer.get(f"/b/{cast.brand.slug}/shows/{show.id}/captions/en.vtt").status_code == 404
    assert viewer.get(f"/b/{cast.brand.slug}/shows/{show.id}/captions/xx.vtt").status_code == 404


def test_no_replay_no_captions(app: Flask, cast: Cast) -> None:
    """A hidden replay's captions answer 404 to shoppers, as the replay itself does."""
    show = cast.show_in(ShowStatus.ENDED)
    captions.do_set_captions(cast.session, cast.actors["admin"], show, "en", GOOD, user_id=None)
    cast.session.commit()
    url = f"/b/{cast.brand.slug}/shows/{show.id}/captions/en.vtt"
    assert cast.client(app, "shopper").get(url).status_code == 404
    assert cast.client(app, "admin").get(url).status_code == 200  # the brand, to check them
    page = cast.client(app, "shopper").get(f"/b/{cast.brand.slug}/shows/{show.id}")
    assert b"<track" not in page.data
