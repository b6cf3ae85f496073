"""Brand settings, associates and their weekly hours: the admin's actions."""

from __future__ import annotations

import re
import secrets
import string

from sqlmodel import Session, select

from sessions.access import Actor
from sessions.errors import N_, InvalidInput
from sessions.models import AssociateProfile, AssociateStore, Brand, Store
from sessions.outbound import UrlPolicy, check_brand_url
from sessions.privacy import audit

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# What a checkout cart URL may contain between braces (filled in at checkout).
CART_URL_PLACEHOLDERS = ("skus", "bag_id", "total_minor", "currency", "brand")
_SAMPLE_VALUES = {
    "skus": "SKU-1:1",
    "bag_id": "1",
    "total_minor": "100",
    "currency": "EUR",
    "brand": "brand",
}


# Retention periods a brand may set, in days (ten years at most).
MAX_RETENTION_DAYS = 3650


def _check_colour(value: str, field: str) -> str:
    if not _COLOUR.match(value):
        raise InvalidInput("Use a colour like #1c1c1c.", field=field)
    return value.lower()


def _check_cart_template(value: str | None, policy: UrlPolicy) -> str | None:
    """Known placeholders only, and the address filled in must itself be a safe URL."""
    field = "checkout_url_template"
    value = (value or "").strip() or None
    if value is None:
        return None
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        if names - set(CART_URL_PLACEHOLDERS):
            raise KeyError
        filled = value.format_map(_SAMPLE_VALUES)
    except (ValueError, KeyError, IndexError):
        allowed = ", ".join("{" + name + "}" for name in CART_URL_PLACEHOLDERS)
        raise InvalidInput(
            N_("Use only these placeholders: %(allowed)s."),
            params={"allowed": allowed},
            field=field,
        ) from None
    check_brand_url(filled, field, policy, must_resolve=False)
    return value


MAX_PER_CLIENT_LIMIT = 99


def check_max_per_client(value: object) -> int:
    """A whole number of pieces, 1 to 99 (a form sends text, the API a number)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput("Enter a whole number of pieces.", field="max_per_client")
    if not 1 <= value <= MAX_PER_CLIENT_LIMIT:
        raise InvalidInput(
            N_("Allow between 1 and %(n)s pieces per client."),
            params={"n": MAX_PER_CLIENT_LIMIT},
            field="max_per_client",
        )
    return value


def new_webhook_secret() -> str:
    """A fresh signing secret for the checkout webhook (shown to the admin once)."""
    return "whsec_" + secrets.token_urlsafe(32)


def do_rotate_webhook_secret(db: Session, brand: Brand, *, by: Actor | None = None) -> str:
    """Replace the webhook's signing secret; return it (the only time it is shown)."""
    brand.webhook_secret = new_webhook_secret()
    db.add(brand)
    audit.record(db, by, "webhook_secret.rotate", f"brand:{brand.id}", brand_id=brand.id)
    db.commit()
    return brand.webhook_secret


def _whole_number(value: object, field: str, low: int, high: int, unit: str) -> int:
    """A whole number in [low, high] (a form sends text, the API a number)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(
            N_("Enter a whole number of %(unit)s, %(low)s to %(high)s."),
            params={"unit": unit, "low": low, "high": high},
            field=field,
        )
    return value


def do_update_brand_settings(
    db: Session,
    brand: Brand,
    *,
    name: str,
    primary_color: str,
    accent_color: str,
    offline_message: str,
    blocked_words: str,
    checkout_url_template: str | None,
    checkout_webhook_url: str | None,
    logo_path: str | None = None,
    max_per_client: object = None,
    record_consultations: bool | None = None,
    reservation_minutes: int | None = None,
    url_policy: UrlPolicy | None = None,
    away_after_minutes: object = None,
    auto_answer_after_seconds: object = None,
    show_reminder_minutes: object = None,
    waitlist_hold_minutes: object = None,
    replay_price: object = None,
    bag_outside_live: bool | None = None,
    signin_link_minutes: object = None,
    chat_retention_days: object = None,
    recording_retention_days: object = None,
    guest_retention_days: object = None,
    by: Actor | None = None,
) -> Brand:
    """Save a brand's settings, the same checks from the admin page, the API and the CLI.

    A webhook URL saved without a signing secret gets one generated here, so a
    webhook can never be half-configured; the caller shows it (compare
    ``brand.webhook_secret`` before and after).
    """
    policy = url_policy or UrlPolicy()
    if not name.strip():
        raise InvalidInput("Enter the brand's name.", field="name")
    if reservation_minutes is not None and not 1 <= reservation_minutes <= 24 * 60:
        raise InvalidInput(
            "Hold bag items between 1 and 1440 minutes.", field="reservation_minutes"
        )
    # Every check before the first assignment: a refused save leaves the brand untouched.
    colours = (
        _check_colour(primary_color, "primary_color"),
        _check_colour(accent_color, "accent_color"),
    )
    cart_url = _check_cart_template(checkout_url_template, policy)
    webhook_url = check_brand_url(
        checkout_webhook_url, "checkout_webhook_url", policy, must_resolve=True
    )
    # Remind me: the "starts soon" e-mail goes this long before a show (0: none).
    reminder_minutes = (
        None
        if show_reminder_minutes in (None, "")
        else _whole_number(show_reminder_minutes, "show_reminder_minutes", 0, 24 * 60, "minutes")
    )
    if replay_price not in (None, "") and replay_price not in ("live", "current"):
        raise InvalidInput(
            'A replay sells at the "live" price or the "current" one.', field="replay_price"
        )
    retention = {  # days each is kept (sessions/privacy/retention.py)
        name: _whole_number(value, name, 1, MAX_RETENTION_DAYS, "days")
        for name, value in (
            ("chat_retention_days", chat_retention_days),
            ("recording_retention_days", recording_retention_days),
            ("guest_retention_days", guest_retention_days),
        )
        if value not in (None, "")
    }
    before = brand.model_dump()
    brand.name = name.strip()[:120]
    brand.primary_color, brand.accent_color = colours
    brand.offline_message = offline_message.strip() or brand.offline_message
    words = [w.strip() for w in blocked_words.splitlines() if w.strip()]
    brand.blocked_words = "\n".join(dict.fromkeys(words))
    brand.checkout_url_template = cart_url
    brand.checkout_webhook_url = webhook_url
    if webhook_url and not brand.webhook_secret:
        brand.webhook_secret = new_webhook_secret()
    if reservation_minutes is not None:
        brand.reservation_minutes = reservation_minutes
    if logo_path is not None:
        brand.logo_path = logo_path
    if max_per_client not in (None, ""):  # a form without the field leaves it as it is
        brand.max_per_client = check_max_per_client(max_per_client)
    if record_consultations is not None:
        brand.record_consultations = record_consultations
    if away_after_minutes not in (None, ""):
        brand.away_after_minutes = _whole_number(
            away_after_minutes, "away_after_minutes", 1, 240, "minutes"
        )
    if auto_answer_after_seconds not in (None, ""):
        brand.auto_answer_after_seconds = _whole_number(
            auto_answer_after_seconds, "auto_answer_after_seconds", 0, 24 * 3600, "seconds"
        )
    if reminder_minutes is not None:
        brand.show_reminder_minutes = reminder_minutes
    if waitlist_hold_minutes not in (None, ""):
        brand.waitlist_hold_minutes = _whole_number(
            waitlist_hold_minutes, "waitlist_hold_minutes", 5, 7 * 24 * 60, "minutes"
        )
    if replay_price not in (None, ""):
        brand.replay_price = str(replay_price)
    if bag_outside_live is not None:
        brand.bag_outside_live = bag_outside_live
    if signin_link_minutes not in (None, ""):  # a returning shopper's e-mailed link works this long
        brand.signin_link_minutes = _whole_number(
            signin_link_minutes, "signin_link_minutes", 5, 24 * 60, "minutes"
        )
    for name, days in retention.items():
        setattr(brand, name, days)
    if retention.get("guest_retention_days", brand.guest_retention_days) != before.get(
        "guest_retention_days"
    ):
        brand.purged_at = None  # a new period: the next purge looks at every guest again
    db.add(brand)
    diff = audit.changes(before, brand.model_dump())
    diff.pop("purged_at", None)
    if "webhook_secret" in diff:  # never the secret itself in the log
        diff["webhook_secret"] = ["…", "a new secret"]
    if diff:
        audit.record(db, by, "settings.update", f"brand:{brand.id}", diff, brand_id=brand.id)
    db.commit()
    return brand


def do_update_associate(
    db: Session,
    profile: AssociateProfile,
    *,
    display_name: str,
    languages: str,
    specialities: str,
    store_ids: list[int],
) -> AssociateProfile:
    if not display_name.strip():
        raise InvalidInput("Enter a name.", field="display_name")
    codes = [c.strip().lower() for c in languages.split(",") if c.strip()]
    if not codes or any(not re.fullmatch(r"[a-z]{2}", c) for c in codes):
        raise InvalidInput("Use two-letter language codes, e.g. en, fr.", field="languages")
    stores = db.exec(select(Store).where(Store.brand_id == profile.brand_id)).all()
    valid = {s.id for s in stores}
    if not store_ids or any(sid not in valid for sid in store_ids):
        raise InvalidInput("Choose at least one of the brand's stores.", field="store_ids")
    profile.display_name = display_name.strip()[:120]
    profile.languages = ",".join(codes)
    profile.specialities = specialities.strip()[:255]
    db.add(profile)
    current = db.exec(select(AssociateStore).where(AssociateStore.associate_id == profile.id)).all()
    for link in current:
        if link.store_id not in store_ids:
            db.delete(link)
    have = {link.store_id for link in current}
    assert profile.id is not None
    for sid in store_ids:
        if sid not in have:
            db.add(AssociateStore(associate_id=profile.id, store_id=sid))
    db.commit()
    return profile


# What the brand admin sets per associate for consultations and routing: (field, low,
# high, unit). Availability (slot, buffer, notice, maximum per day: sessions/service/
# hours.py rules_of) and routing (the parallel cap: sessions/service/routing.py) read them.
ASSOCIATE_LIMITS = (
    ("max_parallel_chats", 1, 20, "conversations at once"),
    ("slot_minutes", 5, 240, "minutes"),
    ("buffer_minutes", 0, 120, "minutes"),
    ("min_notice_minutes", 0, 30 * 24 * 60, "minutes"),
    ("max_per_day", 1, 50, "consultations a day"),
)
MAX_BIO = 2000


def check_associate_service(*, bio: str, **limits: object) -> dict[str, int]:
    """The limits as numbers (those given), or InvalidInput naming the first wrong field."""
    unknown = set(limits) - {name for name, *_ in ASSOCIATE_LIMITS}
    if unknown:
        raise InvalidInput(
            N_("Unknown setting: %(unknown)s."),
            params={"unknown": sorted(unknown)[0]},
            field=sorted(unknown)[0],
        )
    if len(bio.strip()) > MAX_BIO:
        raise InvalidInput(
            N_("Keep the bio under %(n)s characters."), params={"n": MAX_BIO}, field="bio"
        )
    return {
        name: _whole_number(limits[name], name, low, high, unit)
        for name, low, high, unit in ASSOCIATE_LIMITS
        if limits.get(name) not in (None, "")
    }


def do_set_associate_service(
    db: Session,
    profile: AssociateProfile,
    *,
    bio: str,
    photo_path: str | None = None,
    **limits: object,
) -> AssociateProfile:
    """The associate's parallel cap, slot length, buffer, notice, daily maximum, bio and photo.

    Every value is checked before any is kept: a refused save changes nothing. A field
    left out (or empty) keeps its value. New slots follow at once; bookings already made
    keep their time."""
    checked = check_associate_service(bio=bio, **limits)
    text = bio.strip()
    for name, value in checked.items():
        setattr(profile, name, value)
    profile.bio = text
    if photo_path is not None:
        profile.photo_path = photo_path
    db.add(profile)
    db.commit()
    return profile
