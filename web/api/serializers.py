"""Rows to API bodies. Kept apart from views so pages and sockets can reuse them."""

from __future__ import annotations

from flask import url_for
from sqlmodel import Session, col, select

from sessions.access import Actor, can_watch_replay
from sessions.models import (
    AssociateProfile,
    AssociateStore,
    Brand,
    LiveSession,
    Product,
    Show,
    ShowHost,
    ShowProduct,
    Store,
    Variant,
)
from sessions.shows import lifecycle
from web.api.schemas import (
    AssociateOut,
    BrandOut,
    BrandSettingsOut,
    ProductOut,
    ShowOut,
    StoreOut,
    VariantOut,
)


def upload_url(path: str | None) -> str | None:
    return url_for("media.upload", filename=path) if path else None


def brand_out(brand: Brand) -> BrandOut:
    assert brand.id is not None
    return BrandOut(
        id=brand.id,
        slug=brand.slug,
        name=brand.name,
        currency=brand.currency,
        primary_color=brand.primary_color,
        accent_color=brand.accent_color,
        logo_url=upload_url(brand.logo_path),
        max_per_client=brand.max_per_client,
    )


def brand_settings_out(brand: Brand, *, new_webhook_secret: str | None = None) -> BrandSettingsOut:
    return BrandSettingsOut(
        **brand_out(brand).model_dump(),
        offline_message=brand.offline_message,
        blocked_words=brand.blocked_words,
        checkout_url_template=brand.checkout_url_template,
        checkout_webhook_url=brand.checkout_webhook_url,
        reservation_minutes=brand.reservation_minutes,
        show_reminder_minutes=brand.show_reminder_minutes,
        chat_retention_days=brand.chat_retention_days,
        recording_retention_days=brand.recording_retention_days,
        guest_retention_days=brand.guest_retention_days,
        has_webhook_secret=bool(brand.webhook_secret),
        new_webhook_secret=new_webhook_secret,
    )


def store_out(store: Store) -> StoreOut:
    assert store.id is not None
    return StoreOut(
        id=store.id,
        brand_id=store.brand_id,
        name=store.name,
        city=store.city,
        timezone=store.timezone,
    )


def variant_out(variant: Variant, product: Product) -> VariantOut:
    assert variant.id is not None
    price = variant.price_minor if variant.price_minor is not None else product.price_minor
    return VariantOut(
        id=variant.id,
        product_id=variant.product_id,
        sku=variant.sku,
        size=variant.size,
        colour=variant.colour,
        colour_hex=variant.colour_hex,
        price_minor=price,
        stock=variant.stock,
    )


def product_out(db: Session, product: Product) -> ProductOut:
    assert product.id is not None
    variants = db.exec(
        select(Variant).where(Variant.product_id == product.id).order_by(col(Variant.id))
    ).all()
    return ProductOut(
        id=product.id,
        brand_id=product.brand_id,
        slug=product.slug,
        name=product.name,
        description=product.description,
        category=product.category,
        price_minor=product.price_minor,
        currency=product.currency,
        image_url=upload_url(product.image_path),
        is_active=product.is_active,
        stock=sum(v.stock for v in variants),
        variants=[variant_out(v, product) for v in variants],
    )


def associate_out(db: Session, profile: AssociateProfile) -> AssociateOut:
    assert profile.id is not None
    store_ids = db.exec(
        select(AssociateStore.store_id).where(AssociateStore.associate_id == profile.id)
    ).all()
    return AssociateOut(
        id=profile.id,
        display_name=profile.display_name,
        languages=[x.strip() for x in profile.languages.split(",") if x.strip()],
        specialities=[x.strip() for x in profile.specialities.split(",") if x.strip()],
        status=profile.status.value,
        photo_url=upload_url(profile.photo_path),
        store_ids=list(store_ids),
    )


def show_out(db: Session, show: Show, actor: Actor) -> ShowOut:
    """A show as ``actor`` sees it: the replay's address once published (to its brand's
    staff, always), and the lifecycle actions the actor may take now."""
    assert show.id is not None
    live = db.exec(select(LiveSession).where(LiveSession.show_id == show.id)).first()
    host_ids = db.exec(select(ShowHost.associate_id).where(ShowHost.show_id == show.id)).all()
    product_ids = db.exec(
        select(ShowProduct.product_id)
        .where(ShowProduct.show_id == show.id)
        .order_by(col(ShowProduct.position))
    ).all()
    return ShowOut(
        id=show.id,
        brand_id=show.brand_id,
        title=show.title,
        description=show.description,
        starts_at=show.starts_at,
        duration_minutes=show.duration_minutes,
        status=show.status.value,
        cover_url=upload_url(show.cover_path),
        replay_url=show.replay_path if can_watch_replay(actor, show) else None,
        replay_start_seconds=show.replay_start_seconds,
        replay_end_seconds=show.replay_end_seconds,
        live_session_id=live.id if live else None,
        host_ids=list(host_ids),
        product_ids=list(product_ids),
        actions=[a.value for a in lifecycle.actions_for(db, actor, show)],
    )
