"""Private shows: invite-only by an access code (a VIP preview for a maison's best clients).

The brand's admin sets a code (``do_set_show_private``), stored hashed; the show then
leaves the brand's public pages and its page, embed, state, socket room and media grant
are refused (``sessions.access.can_join``) to anyone but the brand's staff and whoever
entered the code (``check_access_code``, rate-limited per client and show; the web layer
remembers the pass in the browser's signed session, ``Actor.show_passes``)."""

from __future__ import annotations

from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from sessions.access import Actor, access_show_private
from sessions.errors import Forbidden, InvalidInput
from sessions.i18n import N_
from sessions.models import LiveSession, Show
from sessions.ratelimit import RateLimiter

MIN_CODE = 4
MAX_CODE = 64

code_limiter = RateLimiter(
    "show-access-code", "5 per minute", N_("Too many tries; wait %(wait)s s before trying again.")
)


def do_set_show_private(db: Session, actor: Actor, show: Show, code: str | None) -> Show:
    """Make the show private with ``code`` (a new code replaces the old one: passes given
    under the old one stay valid in browsers that hold them), or public again with None."""
    access_show_private(actor, show)
    if code is not None:
        code = code.strip()
        if not MIN_CODE <= len(code) <= MAX_CODE:
            raise InvalidInput(
                N_("The access code is %(low)s to %(high)s characters."),
                params={"low": MIN_CODE, "high": MAX_CODE},
                field="access_code",
            )
        show.access_code_hash = generate_password_hash(code)
    else:
        show.access_code_hash = None
    live = db.exec(select(LiveSession).where(LiveSession.show_id == show.id)).first()
    if live is not None:
        live.private = show.private
        db.add(live)
    db.add(show)
    db.commit()
    return show


def check_access_code(show: Show, code: str, client: str) -> None:
    """Does ``code`` open this private show? Raises Forbidden (403) if not, TooManyRequests
    (429) after 5 tries a minute from one client for one show. Changes nothing stored."""
    if not show.private:
        return
    code_limiter.hit(f"{client}:{show.id}")
    assert show.access_code_hash is not None
    # check_password_hash compares in constant time (hmac.compare_digest).
    if not check_password_hash(show.access_code_hash, code.strip()):
        raise Forbidden(N_("That access code is not this show's."), code="wrong_code")
