"""Captions of a show's replay: WebVTT files the brand's admin uploads, one per language.

A file is read with webvtt-py (the field's parser) and kept only when it is a WebVTT file
with at least one cue, each cue ending after it starts; otherwise the upload is refused
with a message that says what is wrong (422, ``field="captions"``). The replay player
offers a captions toggle only when the show has some (``<track>``, off by default).
Who may upload or remove them: ``sessions.access.access_show_replay`` (the brand's admin);
who may read them: whoever may watch the replay (``access_replay_captions``).
"""

from __future__ import annotations

from typing import Any

import webvtt
from sqlmodel import Session, col, select
from webvtt.errors import MalformedFileError

from sessions.access import Actor, access_show_replay
from sessions.errors import N_, InvalidInput, NotFound
from sessions.models import Show, ShowCaption

MAX_BYTES = 512 * 1024  # a two-hour show's captions are well under 200 kB
# The site's languages (web/i18n.py) and what a track's menu calls them.
LANGUAGES = {"en": "English", "fr": "Français", "zh_Hans": "简体中文"}
# <track srclang> wants a BCP 47 tag.
SRCLANG = {"en": "en", "fr": "fr", "zh_Hans": "zh-Hans"}


def _refuse(message: str, **params: object) -> InvalidInput:
    return InvalidInput(message, params=params, field="captions")


def parse_vtt(raw: bytes) -> tuple[str, int]:
    """The file's text (BOM and Windows line ends dropped) and its cue count, or
    InvalidInput saying what is wrong with it."""
    if not raw.strip():
        raise _refuse(N_("The captions file is empty."))
    if len(raw) > MAX_BYTES:
        raise _refuse(N_("The captions file is over %(kb)s kB."), kb=MAX_BYTES // 1024)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(N_("The captions file is not UTF-8 text.")) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.lstrip("\ufeff").startswith("WEBVTT"):
        raise _refuse(N_("This is not a WebVTT file: its first line must be WEBVTT."))
    try:
        cues = webvtt.from_string(text).captions
    except MalformedFileError:
        raise _refuse(N_("This WebVTT file is malformed: check its cue times.")) from None
    # The parser skips a block whose timing line it cannot read: such a line is an error
    # here, not a cue quietly lost.
    timings = sum(1 for line in text.split("\n") if "-->" in line)
    if timings != len(cues):
        raise _refuse(N_("This WebVTT file is malformed: check its cue times."))
    if not cues:
        raise _refuse(N_("This WebVTT file has no cue."))
    for cue in cues:
        if cue.end_in_seconds <= cue.start_in_seconds:
            raise _refuse(N_("The cue at %(start)s ends before it starts."), start=cue.start)
    return text, len(cues)


def do_set_captions(
    db: Session, actor: Actor, show: Show, language: str, raw: bytes, *, user_id: int | None
) -> ShowCaption:
    """Keep ``raw`` as the show's captions in ``language`` (replacing earlier ones)."""
    access_show_replay(actor, show)
    if language not in LANGUAGES:
        raise InvalidInput(N_("Choose the captions' language."), field="language")
    text, count = parse_vtt(raw)
    row = db.exec(
        select(ShowCaption).where(ShowCaption.show_id == show.id, ShowCaption.language == language)
    ).first()
    assert show.id is not None
    row = row or ShowCaption(show_id=show.id, language=language, vtt="")
    row.vtt, row.cue_count, row.uploaded_by = text, count, user_id
    db.add(row)
    db.commit()
    return row


def do_remove_captions(db: Session, actor: Actor, show: Show, language: str) -> None:
    access_show_replay(actor, show)
    row = db.exec(
        select(ShowCaption).where(ShowCaption.show_id == show.id, ShowCaption.language == language)
    ).first()
    if row is None:
        raise NotFound(N_("This show has no captions in that language."))
    db.delete(row)
    db.commit()


def captions_of(db: Session, show: Show) -> list[dict[str, Any]]:
    """The show's captions, in the site's order of languages: what the player's
    ``<track>`` elements and the admin's list need."""
    rows = db.exec(
        select(ShowCaption).where(ShowCaption.show_id == show.id).order_by(col(ShowCaption.id))
    ).all()
    order = list(LANGUAGES)
    return [
        {
            "language": row.language,
            "srclang": SRCLANG[row.language],
            "label": LANGUAGES[row.language],
            "cues": row.cue_count,
        }
        for row in sorted(rows, key=lambda r: order.index(r.language))
        if row.language in LANGUAGES
    ]


def caption_text(db: Session, show: Show, language: str) -> str:
    row = db.exec(
        select(ShowCaption).where(ShowCaption.show_id == show.id, ShowCaption.language == language)
    ).first()
    if row is None:
        raise NotFound(N_("This show has no captions in that language."))
    return row.vtt
