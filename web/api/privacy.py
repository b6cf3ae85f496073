"""Privacy over HTTP, for a brand's admin acting on a shopper's request: the shopper's
data at the brand (export), its erasure, and the brand's audit log of staff actions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from flask import current_app
from pydantic import BaseModel, Field

from sessions.access import access_audit_log, access_brand_admin
from sessions.catalogue import get_or_404
from sessions.i18n import N_
from sessions.models import Brand
from sessions.privacy.audit import list_entries
from sessions.privacy.erase import erase_for
from sessions.privacy.export import export_for
from web.api import bp
from web.api.schemas import Strict
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor
from web.privacy import after_erasure, upload_dir


class ShopperExportOut(BaseModel):
    format: str
    generated_at: str
    shopper_id: int
    brand_id: int | None
    tables: dict[str, list[dict[str, Any]]]


class ErasureOut(BaseModel):
    shopper_id: int
    brand_id: int | None
    deleted: dict[str, int]
    anonymised: dict[str, int]
    files_removed: int


class AuditQuery(Strict):
    action: Annotated[str, Field(max_length=48)] = ""
    page: Annotated[int, Field(ge=1, le=100_000)] = 1


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_user_id: int | None
    actor_name: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    page: int
    pages: int
    total: int


def _brand(brand_id: int) -> Brand:
    brand: Brand = get_or_404(db(), Brand, brand_id, N_("brand"))
    return brand


@api_route(
    bp,
    "/brands/<int:brand_id>/shoppers/<int:shopper_id>/data",
    "GET",
    response=ShopperExportOut,
    tag="privacy",
    summary="Everything the brand holds about a shopper (their request for a copy)",
    auth="brand_admin",
)
def export_shopper(brand_id: int, shopper_id: int) -> ShopperExportOut:
    _brand(brand_id)
    actor = current_actor()
    access_brand_admin(actor, brand_id)
    return ShopperExportOut(**export_for(db(), actor, shopper_id, brand_id))


@api_route(
    bp,
    "/brands/<int:brand_id>/shoppers/<int:shopper_id>/erase",
    "POST",
    response=ErasureOut,
    tag="privacy",
    summary="Erase a shopper's personal data at the brand (orders and bookings stay, anonymous)",
    auth="brand_admin",
)
def erase_shopper(brand_id: int, shopper_id: int) -> ErasureOut:
    _brand(brand_id)
    actor = current_actor()
    access_brand_admin(actor, brand_id)
    erasure = erase_for(db(), actor, shopper_id, brand_id, upload_dir=upload_dir())
    after_erasure(current_app._get_current_object(), erasure)  # type: ignore[attr-defined]
    return ErasureOut(
        shopper_id=erasure.shopper_id,
        brand_id=erasure.brand_id,
        deleted=erasure.deleted,
        anonymised=erasure.anonymised,
        files_removed=erasure.files_removed,
    )


@api_route(
    bp,
    "/brands/<int:brand_id>/audit",
    "GET",
    query=AuditQuery,
    response=AuditPageOut,
    tag="privacy",
    summary="Who changed prices, stock, settings, sanctions and roles (newest first)",
    auth="brand_admin",
)
def audit_log(brand_id: int, query: AuditQuery) -> AuditPageOut:
    _brand(brand_id)
    access_audit_log(current_actor(), brand_id)
    found = list_entries(db(), brand_id, action=query.action, page=query.page)
    return AuditPageOut(
        entries=[
            AuditEntryOut(
                id=e.id or 0,
                at=e.created_at,
                actor_user_id=e.actor_user_id,
                actor_name=e.actor_name,
                action=e.action,
                target=e.target,
                detail=json.loads(e.detail or "{}"),
            )
            for e in found.entries
        ],
        page=found.page,
        pages=found.pages,
        total=found.total,
    )
