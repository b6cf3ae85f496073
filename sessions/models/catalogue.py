"""Products and their variants. Money is in integer minor units (cents)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sessions.models.base import utc_field


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("brand_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=120)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    category: str = Field(default="", max_length=80)
    price_minor: int = Field(ge=0, description="Price in minor units (cents)")
    currency: str = Field(default="EUR", max_length=3)
    image_path: str | None = Field(default=None, max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)


class ProductImage(SQLModel, table=True):
    __tablename__ = "product_images"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True, ondelete="CASCADE")
    path: str = Field(max_length=255)
    position: int = Field(default=0)


class Variant(SQLModel, table=True):
    """A size and colour of a product, with its own SKU and stock."""

    __tablename__ = "variants"
    __table_args__ = (
        UniqueConstraint("brand_id", "sku"),
        # The last line of defence against overselling: stock never goes below zero.
        CheckConstraint("stock >= 0", name="ck_variants_stock_nonnegative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True, ondelete="CASCADE")
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    sku: str = Field(max_length=64)
    size: str = Field(default="", max_length=32)
    colour: str = Field(default="", max_length=48)
    colour_hex: str | None = Field(default=None, max_length=7)
    price_minor: int | None = Field(default=None, ge=0, description="Overrides the product price")
    stock: int = Field(default=0, ge=0)
    image_path: str | None = Field(default=None, max_length=255)
    # Its reference colour as measured on the piece against the reference card (CIE Lab,
    # D65 white; sessions/colour), never typed by hand; with the card's residual then.
    reference_lab_l: float | None = Field(default=None)
    reference_lab_a: float | None = Field(default=None)
    reference_lab_b: float | None = Field(default=None)
    reference_card_delta_e: float | None = Field(default=None)
    reference_measured_at: datetime | None = utc_field(nullable=True)


class StoreStock(SQLModel, table=True):
    """How many of a variant sit on one store's shelves (for "try it on for me").

    Kept apart from ``Variant.stock``, which stays the online stock the bag reserves
    from: a shelf edit never moves an online reservation."""

    __tablename__ = "store_stock"
    __table_args__ = (
        UniqueConstraint("variant_id", "store_id"),
        CheckConstraint("quantity >= 0", name="ck_store_stock_nonnegative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    variant_id: int = Field(foreign_key="variants.id", index=True, ondelete="CASCADE")
    store_id: int = Field(foreign_key="stores.id", index=True, ondelete="CASCADE")
    quantity: int = Field(default=0, ge=0)
    updated_at: datetime = utc_field(default_now=True)
