"""Which sites may frame a brand's embed pages: its own shop's origins, nobody else.

The list becomes the embed page's CSP ``frame-ancestors``, so each entry must be a
bare origin (scheme, host, optional port) and nothing that could add a directive.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlmodel import Session

from sessions.errors import N_, InvalidInput
from sessions.models import Brand

MAX_ORIGINS = 20
# A host name or IPv4 address, lowercase; no wildcards, no user info, no spaces or quotes.
_HOST = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def check_origin(raw: str, *, allow_http: bool) -> str:
    """``https://shop.example.com[:port]``, normalised; anything else is refused."""
    value = raw.strip().rstrip("/").lower()
    schemes = ("https", "http") if allow_http else ("https",)
    not_origin = InvalidInput(
        N_("“%(origin)s” is not an origin like https://shop.example.com."),
        params={"origin": raw.strip()[:80]},
        field="embed_origins",
    )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise not_origin from None
    host = parts.hostname or ""
    if (
        parts.scheme not in schemes
        or not _HOST.match(host)
        or parts.username is not None
        or parts.path
        or parts.query
        or parts.fragment
        or value != f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    ):
        if parts.scheme == "http" and not allow_http:
            raise InvalidInput(
                N_("Use https:// origins (http:// only in development)."), field="embed_origins"
            )
        raise not_origin
    return value


def parse_origins(raw: list[str] | str, *, allow_http: bool) -> list[str]:
    items = raw.split() if isinstance(raw, str) else raw
    origins = list(
        dict.fromkeys(check_origin(o, allow_http=allow_http) for o in items if o.strip())
    )
    if len(origins) > MAX_ORIGINS:
        raise InvalidInput(
            N_("List at most %(n)s origins."), params={"n": MAX_ORIGINS}, field="embed_origins"
        )
    return origins


def embed_origins(brand: Brand) -> list[str]:
    return [o for o in brand.embed_origins.split() if o]


def do_set_embed_origins(
    db: Session, brand: Brand, origins: list[str] | str, *, allow_http: bool
) -> list[str]:
    """Replace the brand's embedding origins (one per line, or a list)."""
    checked = parse_origins(origins, allow_http=allow_http)
    brand.embed_origins = "\n".join(checked)
    db.add(brand)
    db.commit()
    return checked
