"""Catalogue import from CSV: parse and check every row first, then write all or nothing.

One row per variant; rows sharing a ``product`` name (or ``slug``) make one product.
Columns (header names, any order, case-insensitive):

    product (required), sku (required), price (required, e.g. 1250.00),
    size, colour, colour_hex (#rrggbb), stock (integer, default 0),
    variant_price, category, description, slug, currency,
    store_stock (shelf stock per store, "Paris Rue Cambon=3; Lyon=1": the brand's store
    names, for "try it on for me"; ``stock`` stays the online stock)

Used by the admin's import page (preview, then confirm) and by ``vitrine import-csv``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from sessions.access import Actor
from sessions.catalogue import ProductSpec, VariantSpec, add_product
from sessions.errors import N_, InvalidInput, NotFound
from sessions.models import Brand, Store, Variant
from sessions.money import BadAmount, parse_count, parse_price
from sessions.privacy import audit
from sessions.service.tryon import set_shelf

REQUIRED = ("product", "sku", "price")
KNOWN = (
    *REQUIRED,
    "size",
    "colour",
    "colour_hex",
    "stock",
    "variant_price",
    "category",
    "description",
    "slug",
    "currency",
    "store_stock",
)
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_ROWS = 5000


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass
class CatalogueRow:
    line: int
    product: str
    sku: str
    price_minor: int
    size: str = ""
    colour: str = ""
    colour_hex: str | None = None
    stock: int = 0
    variant_price_minor: int | None = None
    category: str = ""
    description: str = ""
    slug: str = ""
    currency: str = ""
    store_stock: dict[str, int] = field(default_factory=dict)

    @property
    def product_key(self) -> str:
        return (self.slug or self.product).strip().lower()


@dataclass
class _RowReader:
    line: int
    raw: dict[str, str]
    errors: list[RowError] = field(default_factory=list)

    def text(self, name: str, max_length: int, *, required: bool = False) -> str:
        value = (self.raw.get(name) or "").strip()
        if required and not value:
            self.errors.append(RowError(self.line, name, "is required"))
        elif len(value) > max_length:
            self.errors.append(RowError(self.line, name, f"is longer than {max_length} characters"))
        return value

    def money(self, name: str, *, required: bool = False) -> int | None:
        value = (self.raw.get(name) or "").strip()
        if not value:
            if required:
                self.errors.append(RowError(self.line, name, "is required"))
            return None
        try:
            return parse_price(value)
        except BadAmount as exc:
            self.errors.append(RowError(self.line, name, f"'{value[:40]}' {exc}"))
            return None

    def shelves(self, name: str) -> dict[str, int]:
        """``Store=3; Other store=1`` → {"store": 3, "other store": 1} (names lower-cased)."""
        out: dict[str, int] = {}
        for part in (self.raw.get(name) or "").split(";"):
            if not part.strip():
                continue
            store, sep, number = part.rpartition("=")
            try:
                if not sep or not store.strip():
                    raise BadAmount("use the form Store name=3; Other store=1")
                out[store.strip().lower()] = parse_count(number.strip())
            except BadAmount as exc:
                self.errors.append(RowError(self.line, name, f"'{part.strip()[:40]}' {exc}"))
        return out

    def count(self, name: str) -> int:
        value = (self.raw.get(name) or "").strip()
        if not value:
            return 0
        try:
            return parse_count(value)
        except BadAmount as exc:
            self.errors.append(RowError(self.line, name, f"'{value[:40]}' {exc}"))
            return 0


def _read_row(line: int, raw: dict[str, str]) -> tuple[CatalogueRow | None, list[RowError]]:
    r = _RowReader(line, raw)
    product = r.text("product", 200, required=True)
    sku = r.text("sku", 64, required=True)
    price = r.money("price", required=True)
    colour_hex = r.text("colour_hex", 7) or None
    if colour_hex and not _HEX.match(colour_hex):
        r.errors.append(RowError(line, "colour_hex", "use the form #rrggbb"))
    currency = r.text("currency", 3).upper()
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        r.errors.append(RowError(line, "currency", "use a three-letter code such as EUR"))
    row = CatalogueRow(
        line=line,
        product=product,
        sku=sku,
        price_minor=price or 0,
        size=r.text("size", 32),
        colour=r.text("colour", 48),
        colour_hex=colour_hex,
        stock=r.count("stock"),
        variant_price_minor=r.money("variant_price"),
        category=r.text("category", 80),
        description=r.text("description", 5000),
        slug=r.text("slug", 120),
        currency=currency,
        store_stock=r.shelves("store_stock"),
    )
    return (None if r.errors else row), r.errors


def parse_catalogue_csv(text: str) -> tuple[list[CatalogueRow], list[RowError]]:
    """Every valid row and every problem found, with its line number (the header is line 1)."""
    text = text.lstrip("\ufeff")  # spreadsheets often save a byte-order mark
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _parse_rows(reader)
    except csv.Error as exc:  # a field over the csv module's size limit, a stray quote...
        return [], [RowError(reader.line_num or 1, "file", f"is not a CSV file we can read: {exc}")]


def _parse_rows(reader: csv.DictReader[str]) -> tuple[list[CatalogueRow], list[RowError]]:
    if not reader.fieldnames:
        return [], [RowError(1, "header", "the file is empty")]
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    missing = [name for name in REQUIRED if name not in reader.fieldnames]
    if missing:
        return [], [RowError(1, "header", f"missing column(s): {', '.join(missing)}")]
    rows: list[CatalogueRow] = []
    errors: list[RowError] = []
    seen_skus: dict[str, int] = {}
    for index, raw in enumerate(reader, start=2):
        if index - 1 > MAX_ROWS:
            errors.append(RowError(index, "file", f"more than {MAX_ROWS} rows; split the file"))
            break
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue  # blank line
        row, row_errors = _read_row(index, raw)
        errors.extend(row_errors)
        if row is None:
            continue
        if row.sku in seen_skus:
            errors.append(
                RowError(index, "sku", f"'{row.sku}' is already on line {seen_skus[row.sku]}")
            )
            continue
        seen_skus[row.sku] = index
        rows.append(row)
    if not rows and not errors:
        errors.append(RowError(2, "file", "no product rows found"))
    return rows, errors


def check_against_catalogue(db: Session, brand_id: int, rows: list[CatalogueRow]) -> list[RowError]:
    """Rows whose SKU the brand already uses (the import only adds products)."""
    skus = [row.sku for row in rows]
    if not skus:
        return []
    taken = set(
        db.exec(
            select(Variant.sku).where(Variant.brand_id == brand_id, col(Variant.sku).in_(skus))
        ).all()
    )
    return [
        RowError(r.line, "sku", f"'{r.sku}' is already in the catalogue")
        for r in rows
        if r.sku in taken
    ]


def check_stores(db: Session, brand_id: int, rows: list[CatalogueRow]) -> list[RowError]:
    """Rows naming a store the brand does not have."""
    names = {s.name.strip().lower() for s in stores_of_brand(db, brand_id)}
    return [
        RowError(r.line, "store_stock", f"no store named '{name}' at this brand")
        for r in rows
        for name in r.store_stock
        if name not in names
    ]


def stores_of_brand(db: Session, brand_id: int) -> list[Store]:
    return list(db.exec(select(Store).where(Store.brand_id == brand_id)).all())


def _stage_shelves(db: Session, brand_id: int, rows: list[CatalogueRow]) -> None:
    """The shelf counts of the new variants, in the import's one transaction."""
    stores = {s.name.strip().lower(): s for s in stores_of_brand(db, brand_id)}
    for row in rows:
        if not row.store_stock:
            continue
        variant = db.exec(
            select(Variant).where(Variant.brand_id == brand_id, Variant.sku == row.sku)
        ).one()
        for name, quantity in row.store_stock.items():
            set_shelf(db, variant, stores[name], quantity)


def group_products(rows: list[CatalogueRow], default_currency: str) -> list[ProductSpec]:
    specs: dict[str, ProductSpec] = {}
    for row in rows:
        spec = specs.get(row.product_key)
        if spec is None:
            spec = ProductSpec(
                name=row.product,
                price_minor=row.price_minor,
                currency=row.currency or default_currency,
                description=row.description,
                category=row.category,
                slug=row.slug or None,
            )
            specs[row.product_key] = spec
        spec.variants.append(
            VariantSpec(
                sku=row.sku,
                size=row.size,
                colour=row.colour,
                stock=row.stock,
                price_minor=row.variant_price_minor,
                colour_hex=row.colour_hex,
            )
        )
    return list(specs.values())


def do_import_catalogue(
    db: Session, brand_id: int, rows: list[CatalogueRow], *, by: Actor | None = None
) -> int:
    """Create every product of ``rows`` in one transaction; on any problem, create none.

    Returns how many products were created.
    """
    brand = db.get(Brand, brand_id)
    if brand is None:
        raise NotFound(N_("No brand with id %(id)s."), params={"id": brand_id})
    conflicts = check_against_catalogue(db, brand_id, rows) + check_stores(db, brand_id, rows)
    if conflicts:
        raise InvalidInput(
            N_("Nothing was imported: %(conflicts)s"),
            params={"conflicts": conflicts[0]},
            errors=[str(e) for e in conflicts],
        )
    try:
        specs = group_products(rows, brand.currency)
        for spec in specs:
            add_product(db, brand_id=brand_id, spec=spec)
        db.flush()
        _stage_shelves(db, brand_id, rows)
        audit.record(
            db,
            by,
            "catalogue.import",
            f"brand:{brand_id}",
            {"products": len(specs)},
            brand_id=brand_id,
        )
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return len(specs)
