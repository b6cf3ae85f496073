"""Brands, stores, products, variants, associates and shows."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlmodel import col, or_, select

from sessions import catalogue as cat
from sessions.access import (
    access_brand_admin,
    access_see_show,
    access_show_programme,
    can_list_show,
    can_see_product,
)
from sessions.brands import do_rotate_webhook_secret, do_update_brand_settings
from sessions.catalogue import get_or_404
from sessions.embedding import do_set_embed_origins
from sessions.errors import NotFound
from sessions.i18n import N_
from sessions.models import AssociateProfile, Brand, Product, Show, Store, Variant
from sessions.outbound import UrlPolicy
from sessions.shows import lifecycle
from web.api import bp
from web.api.schemas import (
    AssociateOut,
    BrandOut,
    BrandSettingsIn,
    BrandSettingsOut,
    EmbedOriginsIn,
    EmbedOriginsOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    ProductQuery,
    ShowIn,
    ShowOut,
    ShowPatch,
    ShowQuery,
    StoreIn,
    StoreOut,
    VariantIn,
    VariantOut,
    VariantPatch,
    WebhookSecretOut,
)
from web.api.serializers import (
    associate_out,
    brand_out,
    brand_settings_out,
    product_out,
    show_out,
    store_out,
    variant_out,
)
from web.api.spec import api_route
from web.config import is_production
from web.db import db
from web.identity import current_actor

# Settings a PATCH may clear with null; the others keep their value on null.
CLEARABLE = {"checkout_url_template", "checkout_webhook_url"}


def _brand(brand_id: int) -> Brand:
    return get_or_404(db(), Brand, brand_id, N_("brand"))


def _visible_product(product_id: int) -> Product:
    product = get_or_404(db(), Product, product_id, N_("product"))
    if not can_see_product(current_actor(), product):
        raise NotFound(_("No product with id %(id)s.", id=product_id))
    return product


# --- brands -----------------------------------------------------------------


@api_route(bp, "/brands", "GET", response=list[BrandOut], tag="brands", summary="List brands")
def list_brands() -> list[BrandOut]:
    return [brand_out(b) for b in db().exec(select(Brand).order_by(col(Brand.name))).all()]


@api_route(
    bp,
    "/brands/<int:brand_id>",
    "GET",
    response=BrandOut,
    tag="brands",
    summary="A brand's public profile",
)
def get_brand(brand_id: int) -> BrandOut:
    return brand_out(_brand(brand_id))


@api_route(
    bp,
    "/brands/<int:brand_id>",
    "PATCH",
    body=BrandSettingsIn,
    response=BrandSettingsOut,
    tag="brands",
    summary="Change a brand's settings (a webhook URL gets a signing secret, shown once)",
    auth="brand_admin",
    example={"name": "Maison X", "accent_color": "#8a6a3b"},
)
def update_brand(brand_id: int, body: BrandSettingsIn) -> BrandSettingsOut:
    brand = _brand(brand_id)
    access_brand_admin(current_actor(), brand_id)
    # Fields left out (or null, for those that cannot be empty) keep their value; the
    # action checks them all, exactly as it does for the admin form.
    sent = body.model_dump(exclude_unset=True)
    changes = {
        name: sent[name]
        if name in sent and (sent[name] is not None or name in CLEARABLE)
        else getattr(brand, name)
        for name in BrandSettingsIn.model_fields
    }
    secret_before = brand.webhook_secret
    do_update_brand_settings(
        db(),
        brand,
        url_policy=UrlPolicy.from_mapping(current_app.config),
        by=current_actor(),
        **changes,
    )
    new_secret = brand.webhook_secret if brand.webhook_secret != secret_before else None
    return brand_settings_out(brand, new_webhook_secret=new_secret)


@api_route(
    bp,
    "/brands/<int:brand_id>/webhook-secret",
    "POST",
    response=WebhookSecretOut,
    tag="brands",
    summary="Generate a new checkout webhook signing secret (shown only in this answer)",
    auth="brand_admin",
)
def rotate_webhook_secret(brand_id: int) -> WebhookSecretOut:
    brand = _brand(brand_id)
    access_brand_admin(current_actor(), brand_id)
    return WebhookSecretOut(
        webhook_secret=do_rotate_webhook_secret(db(), brand, by=current_actor())
    )


@api_route(
    bp,
    "/brands/<int:brand_id>/embed-origins",
    "PUT",
    body=EmbedOriginsIn,
    response=EmbedOriginsOut,
    tag="brands",
    summary="Set the sites allowed to frame the brand's embed pages",
    auth="brand_admin",
    example={"origins": ["https://shop.example.com"]},
)
def set_embed_origins(brand_id: int, body: EmbedOriginsIn) -> EmbedOriginsOut:
    brand = _brand(brand_id)
    access_brand_admin(current_actor(), brand_id)
    origins = do_set_embed_origins(db(), brand, body.origins, allow_http=not is_production())
    return EmbedOriginsOut(origins=origins)


# --- stores -----------------------------------------------------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/stores",
    "GET",
    response=list[StoreOut],
    tag="stores",
    summary="A brand's stores",
)
def list_stores(brand_id: int) -> list[StoreOut]:
    _brand(brand_id)
    rows = db().exec(select(Store).where(Store.brand_id == brand_id).order_by(col(Store.id))).all()
    return [store_out(s) for s in rows]


@api_route(
    bp,
    "/brands/<int:brand_id>/stores",
    "POST",
    body=StoreIn,
    response=StoreOut,
    status=201,
    tag="stores",
    summary="Open a store",
    auth="brand_admin",
    example={"name": "Milan Montenapoleone", "timezone": "Europe/Rome", "city": "Milan"},
)
def create_store(brand_id: int, body: StoreIn) -> StoreOut:
    _brand(brand_id)
    access_brand_admin(current_actor(), brand_id)
    return store_out(cat.do_create_store(db(), brand_id=brand_id, **body.model_dump()))


# --- products and variants ---------------------------------------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/products",
    "GET",
    query=ProductQuery,
    response=list[ProductOut],
    tag="catalogue",
    summary="Browse a brand's catalogue (q: name, category or SKU)",
)
def list_products(brand_id: int, query: ProductQuery) -> list[ProductOut]:
    _brand(brand_id)
    stmt = select(Product).where(Product.brand_id == brand_id, col(Product.is_active))
    if query.q:
        pattern = f"%{query.q}%"
        by_sku = select(Variant.product_id).where(
            Variant.brand_id == brand_id, col(Variant.sku).ilike(pattern)
        )
        stmt = stmt.where(
            or_(
                col(Product.name).ilike(pattern),
                col(Product.category).ilike(pattern),
                col(Product.id).in_(by_sku),
            )
        )
    if query.category:
        stmt = stmt.where(Product.category == query.category)
    stmt = stmt.order_by(col(Product.name)).offset(query.offset).limit(query.limit)
    return [product_out(db(), p) for p in db().exec(stmt).all()]


@api_route(
    bp,
    "/brands/<int:brand_id>/products",
    "POST",
    body=ProductIn,
    response=ProductOut,
    status=201,
    tag="catalogue",
    summary="Create a product with its variants",
    auth="brand_admin",
    example={
        "name": "Silk scarf",
        "price_minor": 45000,
        "variants": [{"sku": "SC-90-AZ", "size": "OS", "colour": "Azur", "stock": 5}],
    },
)
def create_product(brand_id: int, body: ProductIn) -> ProductOut:
    brand = _brand(brand_id)
    access_brand_admin(current_actor(), brand_id)
    spec = cat.ProductSpec(
        name=body.name,
        price_minor=body.price_minor,
        currency=body.currency or brand.currency,
        description=body.description,
        category=body.category,
        variants=[cat.VariantSpec(**v.model_dump()) for v in body.variants],
    )
    return product_out(db(), cat.do_create_product(db(), brand_id=brand_id, spec=spec))


@api_route(
    bp,
    "/products/<int:product_id>",
    "GET",
    response=ProductOut,
    tag="catalogue",
    summary="A product with its sizes, colours and stock",
)
def get_product(product_id: int) -> ProductOut:
    return product_out(db(), _visible_product(product_id))


@api_route(
    bp,
    "/products/<int:product_id>",
    "PATCH",
    body=ProductPatch,
    response=ProductOut,
    tag="catalogue",
    summary="Edit a product",
    auth="brand_admin",
    example={"price_minor": 42000},
)
def update_product(product_id: int, body: ProductPatch) -> ProductOut:
    product = get_or_404(db(), Product, product_id, N_("product"))
    access_brand_admin(current_actor(), product.brand_id)
    cat.do_update_product(db(), product, by=current_actor(), **body.model_dump(exclude_unset=True))
    return product_out(db(), product)


@api_route(
    bp,
    "/products/<int:product_id>/variants",
    "POST",
    body=VariantIn,
    response=VariantOut,
    status=201,
    tag="catalogue",
    summary="Add a size or colour",
    auth="brand_admin",
    example={"sku": "SC-90-CO", "size": "OS", "colour": "Coral", "stock": 2},
)
def create_variant(product_id: int, body: VariantIn) -> VariantOut:
    product = get_or_404(db(), Product, product_id, N_("product"))
    access_brand_admin(current_actor(), product.brand_id)
    variant = cat.do_add_variant(db(), product, cat.VariantSpec(**body.model_dump()))
    return variant_out(variant, product)


@api_route(
    bp,
    "/variants/<int:variant_id>",
    "PATCH",
    body=VariantPatch,
    response=VariantOut,
    tag="catalogue",
    summary="Set a variant's stock or price",
    auth="brand_admin",
    example={"stock": 7},
)
def update_variant(variant_id: int, body: VariantPatch) -> VariantOut:
    variant = get_or_404(db(), Variant, variant_id, N_("variant"))
    access_brand_admin(current_actor(), variant.brand_id)
    if body.price_minor is not None:
        cat.do_set_variant_price(db(), variant, body.price_minor, by=current_actor())
    if body.stock is not None:
        cat.do_set_stock(db(), variant, body.stock, by=current_actor())
    product = get_or_404(db(), Product, variant.product_id, N_("product"))
    return variant_out(variant, product)


# --- associates ---------------------------------------------------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/associates",
    "GET",
    response=list[AssociateOut],
    tag="associates",
    summary="A brand's associates (public profiles)",
)
def list_associates(brand_id: int) -> list[AssociateOut]:
    _brand(brand_id)
    rows = (
        db()
        .exec(
            select(AssociateProfile)
            .where(AssociateProfile.brand_id == brand_id)
            .order_by(col(AssociateProfile.display_name))
        )
        .all()
    )
    return [associate_out(db(), p) for p in rows]


# --- shows (their lifecycle, replay and reminders: web/api/shows.py) ---------------------


@api_route(
    bp,
    "/brands/<int:brand_id>/shows",
    "GET",
    query=ShowQuery,
    response=list[ShowOut],
    tag="shows",
    summary="A brand's shows (drafts only to its staff)",
)
def list_shows(brand_id: int, query: ShowQuery) -> list[ShowOut]:
    _brand(brand_id)
    actor = current_actor()
    stmt = select(Show).where(Show.brand_id == brand_id)
    if query.status:
        stmt = stmt.where(Show.status == query.status)
    rows = db().exec(stmt.order_by(col(Show.starts_at))).all()
    return [show_out(db(), s, actor) for s in rows if can_list_show(actor, s)]


@api_route(
    bp,
    "/brands/<int:brand_id>/shows",
    "POST",
    body=ShowIn,
    response=ShowOut,
    status=201,
    tag="shows",
    summary="Schedule a show (or save it as a draft, seen by the brand's staff only)",
    auth="brand_admin",
    example={"title": "Autumn preview", "starts_at": "2030-09-01T18:00:00+02:00"},
)
def create_show(brand_id: int, body: ShowIn) -> ShowOut:
    _brand(brand_id)
    access_brand_admin(current_actor(), brand_id)
    show = lifecycle.do_create_show(db(), brand_id=brand_id, **body.model_dump())
    return show_out(db(), show, current_actor())


@api_route(bp, "/shows/<int:show_id>", "GET", response=ShowOut, tag="shows", summary="A show")
def get_show(show_id: int) -> ShowOut:
    show = get_or_404(db(), Show, show_id, N_("show"))
    access_see_show(current_actor(), show)
    return show_out(db(), show, current_actor())


@api_route(
    bp,
    "/shows/<int:show_id>",
    "PATCH",
    body=ShowPatch,
    response=ShowOut,
    tag="shows",
    summary="Edit a show (a draft, a scheduled or a live one)",
    auth="brand_admin",
    example={"title": "Autumn preview, part two"},
)
def update_show(show_id: int, body: ShowPatch) -> ShowOut:
    show = get_or_404(db(), Show, show_id, N_("show"))
    access_show_programme(current_actor(), show)
    lifecycle.do_update_show(db(), show, **body.model_dump(exclude_unset=True))
    return show_out(db(), show, current_actor())
