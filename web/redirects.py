"""Where a user-given ``next`` may send a browser: only a path on this site."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

# Browsers drop tab, CR and LF inside URLs and read "\" as "/", so "/\t/evil" and "/\evil"
# become "//evil" — another host. A target with any of them, or any control character,
# is refused outright instead of cleaned: a real link of ours never has one.
_FORBIDDEN = frozenset(chr(c) for c in range(0x20)) | {"\x7f", "\\"}


def safe_next(target: str | None) -> str | None:
    """The target if it is a same-site path ("/console?x=1"), else None (go to the default).

    Checked as given and once more percent-decoded, so "/%09/x" (a tab once some layer
    decodes it) is refused as well as "/\t/x".
    """
    if not target or len(target) > 2000:
        return None
    for form in (target, unquote(target)):
        if any(ch in _FORBIDDEN for ch in form):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
        if not parts.path.startswith("/") or parts.path.startswith("//"):
            return None
    return target
