"""Small helpers for server-rendered forms: keep what was typed, errors per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import redirect, request, url_for
from flask_babel import gettext as _
from sqlmodel import select
from werkzeug.wrappers import Response

from sessions.access import Actor, access_brand_admin
from sessions.errors import DomainError, NotFound
from sessions.models import Brand
from sessions.money import MAX_PRICE_MINOR, BadAmount, parse_price
from web.db import db
from web.errors import error_text
from web.identity import current_actor


@dataclass
class Form:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls) -> Form:
        return cls(values={k: v for k, v in request.form.items() if k != "csrf_token"})

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        return "" if value is None else str(value)

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, label: str, *, required: bool = False, max_length: int = 200) -> str:
        value = self.get(name).strip()
        if required and not value:
            self.fail(name, _("Enter %(label)s.", label=label))
        elif len(value) > max_length:
            self.fail(name, _("Keep %(label)s under %(n)s characters.", label=label, n=max_length))
        return value

    def integer(self, name: str, label: str, *, minimum: int = 0, maximum: int = 10**9) -> int:
        raw = self.get(name).strip()
        try:
            if len(raw) > 12:  # int() of a 5000-digit string is slow, and no count is that big
                raise ValueError
            value = int(raw)
        except ValueError:
            self.fail(name, _("Enter %(label)s as a whole number.", label=label))
            return minimum
        if not minimum <= value <= maximum:
            self.fail(
                name,
                _(
                    "Enter %(label)s between %(minimum)s and %(maximum)s.",
                    label=label,
                    minimum=minimum,
                    maximum=maximum,
                ),
            )
        return value

    def money(self, name: str, label: str, *, required: bool = True) -> int | None:
        raw = self.get(name).strip()
        if not raw:
            if required:
                self.fail(name, _("Enter %(label)s.", label=label))
            return None
        try:
            return parse_price(raw)
        except BadAmount as exc:
            if exc.not_a_number:
                self.fail(name, _("Enter %(label)s as a number, e.g. 1250.00.", label=label))
            else:
                top = f"{MAX_PRICE_MINOR // 100:,}"
                self.fail(
                    name,
                    _(
                        "Enter %(label)s from 0 to %(top)s, with at most two decimals.",
                        label=label,
                        top=top,
                    ),
                )
            return None

    def local_datetime(self, name: str, tz_name: str, label: str) -> datetime | None:
        raw = self.get(name).strip()
        try:
            naive = datetime.fromisoformat(raw)
        except ValueError:
            self.fail(name, _("Enter %(label)s as a date and time.", label=label))
            return None
        try:
            zone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail("timezone", _("“%(zone)s” is not a known time zone.", zone=tz_name))
            return None
        return naive.replace(tzinfo=zone)

    def absorb(
        self, exc: DomainError, default_field: str, aliases: dict[str, str] | None = None
    ) -> None:
        """Put a domain error next to the field it names (or a default one)."""
        name = str(exc.details.get("field") or default_field)
        self.fail((aliases or {}).get(name, name), error_text(exc))


def admin_brand() -> tuple[Actor, Brand]:
    """The brand this admin manages; a platform admin picks one with ?brand=<id>."""
    actor = current_actor()
    brand_id = actor.brand_id or request.args.get("brand", type=int)
    brand = db().get(Brand, brand_id) if brand_id else db().exec(select(Brand)).first()
    if brand is None:
        raise NotFound(_("No brand to manage yet."))
    access_brand_admin(actor, brand.id or 0)
    return actor, brand


def needs_login() -> Response | None:
    if current_actor().is_staff:
        return None
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
