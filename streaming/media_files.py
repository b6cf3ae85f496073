"""Which file of the media folder a URL names, and whether its room is public.

Every route that turns part of a URL into a path comes here: the name must match
the room or file pattern (no dots, no slashes, nothing decoded from ``%2F``), and
the path it makes must resolve inside its folder, symbolic links included.

A room's publicity is decided by the web app and carried on the publisher's grant
(``public``, ``record``). The relay keeps it in a small JSON file per room
(``access/<room>.json``) so that after a restart an ended public show's replay is
still public and an ended consultation's files are still private. A room with no
such file is private: deny by default.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# The web app names rooms "show-…", "consult-…", "talk-…" (and "-shopper" for the
# shopper's camera of a consultation); letters, digits, "-" and "_" only.
ROOM_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RECORDING_PATTERN = re.compile(r"(?P<room>[A-Za-z0-9][A-Za-z0-9_-]{0,63})-\d{8}T\d{6}Z\.mp4")
# LL-HLS (streaming/llhls.py): the playlist, and <stream id>-init.mp4,
# <stream id>-<msn>.m4s (a segment), <stream id>-<msn>.<part>.m4s (a part).
HLS_FILE_PATTERN = re.compile(
    r"index\.m3u8|(?P<sid>[0-9a-f]{12})-(?:init\.mp4|(?P<msn>\d{1,9})(?:\.(?P<part>\d{1,4}))?\.m4s)"
)


def is_room_name(name: str) -> bool:
    return ROOM_PATTERN.fullmatch(name) is not None


def recording_room(filename: str) -> str | None:
    """The room a recording file belongs to, or None if the name is not a recording's."""
    match = RECORDING_PATTERN.fullmatch(filename)
    return match["room"] if match else None


def is_hls_file(filename: str) -> bool:
    return HLS_FILE_PATTERN.fullmatch(filename) is not None


def inside(folder: Path, *parts: str) -> Path | None:
    """``folder/parts`` if it resolves inside ``folder`` and is a file, else None."""
    root = folder.resolve()
    path = root.joinpath(*parts).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def marker_path(media_dir: Path, room: str) -> Path:
    return media_dir / "access" / f"{room}.json"


def write_marker(media_dir: Path, room: str, *, public: bool, record: bool) -> None:
    path = marker_path(media_dir, room)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"public": public, "record": record}))
    tmp.replace(path)  # a reader never sees half a file


def read_public(media_dir: Path, room: str) -> bool | None:
    """What the marker says (None: no marker, or unreadable; callers treat it as private)."""
    try:
        data = json.loads(marker_path(media_dir, room).read_text())
    except (OSError, ValueError):
        return None
    return data.get("public") is True if isinstance(data, dict) else None


def remove_room_files(media_dir: Path, room: str) -> int:
    """Delete a room's recordings, HLS segments, thumbnail and snapshots; how many files.

    ``room`` is a checked room name (``is_room_name``): it cannot leave the folders."""
    removed = 0
    candidates = [
        *(media_dir / "recordings").glob(f"{room}-*.mp4"),
        *(media_dir / "snapshots").glob(f"{room}-[0-9]*.jpg"),
        *(media_dir / "snapshots").glob(f"{room}-[0-9]*.png"),
        media_dir / "thumbnails" / f"{room}.jpg",
    ]
    hls = media_dir / "hls" / room
    if hls.is_dir():
        candidates.extend(hls.iterdir())
    for path in candidates:
        # "consult-x-…" recordings must not match "consult-x-shopper-…": compare the room.
        if path.parent.name == "recordings" and recording_room(path.name) != room:
            continue
        if path.is_file():
            path.unlink()
            removed += 1
    if hls.is_dir():
        hls.rmdir()
    return removed
