"""Catalogue admin: list, create, edit, stock, pictures and CSV import."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlmodel import col, select
from werkzeug.wrappers import Response

from sessions import catalogue as cat
from sessions.csv_import import check_against_catalogue, check_stores, parse_catalogue_csv
from sessions.csv_import import do_import_catalogue as import_rows
from sessions.errors import DomainError, NotFound
from sessions.models import Brand, Product, Store, Variant
from sessions.service import tryon
from web.admin import bp
from web.admin.brand_texts import save_brand_texts
from web.admin.forms import Form, admin_brand, needs_login
from web.admin.images import save_image
from web.db import db
from web.errors import error_text
from web.identity import current_actor

VARIANT_ROWS = 4
CSV_MAX_BYTES = 2 * 1024 * 1024


def _product_of(brand: Brand, product_id: int) -> Product:
    product = db().get(Product, product_id)
    if product is None or product.brand_id != brand.id:
        raise NotFound(_("No product with id %(id)s.", id=product_id))
    return product


@bp.get("/")
def index() -> Response:
    if (login := needs_login()) is not None:
        return login
    admin_brand()
    return redirect(url_for("admin.products"))


@bp.get("/products")
def products() -> Response | str:
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    q = request.args.get("q", "").strip()
    stmt = select(Product).where(Product.brand_id == brand.id)
    if q:
        stmt = stmt.where(col(Product.name).ilike(f"%{q}%"))
    rows = db().exec(stmt.order_by(col(Product.name))).all()
    stock = {p.id: sum(v.stock for v in cat.variants_of(db(), p.id or 0)) for p in rows}
    return render_template(
        "admin/products.html", brand=brand, products=rows, stock=stock, q=q, section="catalogue"
    )


def _variant_specs(form: Form) -> list[cat.VariantSpec]:
    specs = []
    for i in range(VARIANT_ROWS):
        sku = form.get(f"sku_{i}").strip()
        size, colour = form.get(f"size_{i}").strip(), form.get(f"colour_{i}").strip()
        if not (sku or size or colour):
            continue
        if not sku:
            form.fail(f"sku_{i}", _("Give this size/colour a SKU."))
        stock = (
            form.integer(f"stock_{i}", _("the stock"), maximum=1_000_000)
            if form.get(f"stock_{i}").strip()
            else 0
        )
        specs.append(cat.VariantSpec(sku=sku, size=size, colour=colour, stock=stock))
    if not specs:
        form.fail("sku_0", _("Add at least one size or colour with its SKU."))
    return specs


@bp.route("/products/new", methods=["GET", "POST"])
def new_product() -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    if request.method == "GET":
        return render_template(
            "admin/product_form.html",
            brand=brand,
            form=Form(),
            rows=VARIANT_ROWS,
            product=None,
            section="catalogue",
        )
    form = Form.from_request()
    name = form.text("name", _("a name"), required=True)
    price = form.money("price", _("a price"))
    specs = _variant_specs(form)
    image_path = _maybe_image(form)
    if form.ok and price is not None:
        spec = cat.ProductSpec(
            name=name,
            price_minor=price,
            currency=brand.currency,
            description=form.text("description", _("the description"), max_length=5000),
            category=form.text("category", _("the category"), max_length=80),
            image_path=image_path,
            variants=specs,
        )
        try:
            product = cat.do_create_product(db(), brand_id=brand.id or 0, spec=spec)
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "sku_0", {"variants": "sku_0"})
        else:
            save_brand_texts("product", brand, product.id)
            flash(_("“%(name)s” was created.", name=product.name))
            return redirect(url_for("admin.edit_product", product_id=product.id))
    return render_template(
        "admin/product_form.html",
        brand=brand,
        form=form,
        rows=VARIANT_ROWS,
        product=None,
        section="catalogue",
    ), 422


def _maybe_image(form: Form) -> str | None:
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return None
    try:
        return save_image(upload.read(), current_app.config["UPLOAD_DIR"], "products")
    except DomainError as exc:
        form.absorb(exc, "image")
        return None


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
def edit_product(product_id: int) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    product = _product_of(brand, product_id)
    variants = cat.variants_of(db(), product_id)
    if request.method == "GET":
        form = Form(
            values={
                "name": product.name,
                "price": f"{product.price_minor / 100:.2f}",
                "category": product.category,
                "description": product.description,
                "is_active": "1" if product.is_active else "",
                **{f"stock_v{v.id}": str(v.stock) for v in variants},
            }
        )
        return _edit_page(brand, product, variants, form)
    form = Form.from_request()
    name = form.text("name", _("a name"), required=True)
    price = form.money("price", _("a price"))
    stocks = {
        v.id: form.integer(f"stock_v{v.id}", _("the stock"), maximum=1_000_000) for v in variants
    }
    image_path = _maybe_image(form)
    if not form.ok:
        return _edit_page(brand, product, variants, form), 422
    cat.do_update_product(
        db(),
        product,
        name=name,
        price_minor=price,
        category=form.text("category", _("the category"), max_length=80),
        description=form.text("description", _("the description"), max_length=5000),
        is_active=bool(form.get("is_active")),
        image_path=image_path,
        by=current_actor(),
    )
    for variant in variants:
        if stocks[variant.id] != variant.stock:
            cat.do_set_stock(db(), variant, stocks[variant.id], by=current_actor())
    save_brand_texts("product", brand, product.id)
    flash(_("Saved."))
    return redirect(url_for("admin.edit_product", product_id=product.id))


def _edit_page(brand: Brand, product: Product, variants: list[Variant], form: Form) -> str:
    stores = (
        db().exec(select(Store).where(Store.brand_id == brand.id).order_by(col(Store.name))).all()
    )
    shelves = {v.id: tryon.shelf_of(db(), v.id) for v in variants if v.id is not None}
    db().commit()  # end the read
    return render_template(
        "admin/product_form.html",
        brand=brand,
        product=product,
        variants=variants,
        form=form,
        rows=0,
        section="catalogue",
        stores=stores,
        shelves=shelves,
    )


@bp.post("/products/<int:product_id>/shelves")
def set_shelves(product_id: int) -> Response | str | tuple[str, int]:
    """Shelf stock per boutique ("try it on for me"): one number per variant and store.
    Checked whole before any is kept; the online stock (the bag's) is not touched."""
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    product = _product_of(brand, product_id)
    variants = cat.variants_of(db(), product_id)
    stores = db().exec(select(Store).where(Store.brand_id == brand.id)).all()
    form = Form.from_request()
    wanted = {
        (v.id, s.id): form.integer(
            f"shelf_v{v.id}_s{s.id}", _("the shelf stock"), maximum=tryon.MAX_SHELF
        )
        for v in variants
        for s in stores
        if v.id is not None and s.id is not None
    }
    if not form.ok:
        form.values.setdefault("name", product.name)
        form.values.setdefault("price", f"{product.price_minor / 100:.2f}")
        form.values.update({f"stock_v{v.id}": str(v.stock) for v in variants})
        return _edit_page(brand, product, variants, form), 422
    actor = current_actor()
    for (variant_id, store_id), quantity in wanted.items():
        if tryon.shelf_of(db(), variant_id).get(store_id, 0) != quantity:
            tryon.do_set_store_stock(db(), actor, variant_id, store_id, quantity)
    db().commit()
    flash(_("Shelf stock saved."))
    return redirect(url_for("admin.edit_product", product_id=product_id))


@bp.post("/products/<int:product_id>/variants")
def add_variant(product_id: int) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    product = _product_of(brand, product_id)
    form = Form.from_request()
    sku = form.text("new_sku", _("a SKU"), required=True, max_length=64)
    stock = form.integer("new_stock", _("the stock"), maximum=1_000_000)
    if form.ok:
        spec = cat.VariantSpec(
            sku=sku,
            size=form.get("new_size").strip(),
            colour=form.get("new_colour").strip(),
            stock=stock,
        )
        try:
            cat.do_add_variant(db(), product, spec)
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "new_sku", {"variants": "new_sku"})
        else:
            flash(_("Added %(sku)s.", sku=sku))
            return redirect(url_for("admin.edit_product", product_id=product_id))
    variants = cat.variants_of(db(), product_id)
    form.values.update({f"stock_v{v.id}": str(v.stock) for v in variants})
    form.values.setdefault("name", product.name)
    form.values.setdefault("price", f"{product.price_minor / 100:.2f}")
    return _edit_page(brand, product, variants, form), 422


@bp.route("/products/import", methods=["GET", "POST"])
def import_csv() -> Response | str | tuple[str, int]:
    """Upload → preview with per-row errors → confirm. Nothing is written before confirm."""
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    context = {"brand": brand, "section": "catalogue", "rows": [], "errors": [], "text": ""}
    if request.method == "GET":
        return render_template("admin/import.html", **context)
    text = request.form.get("csv_text", "")
    upload = request.files.get("csv_file")
    if upload is not None and upload.filename:
        data = upload.read(CSV_MAX_BYTES + 1)
        if len(data) > CSV_MAX_BYTES:
            context["file_error"] = _("This file is larger than 2 MB; split it.")
            return render_template("admin/import.html", **context), 422
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            context["file_error"] = _("Save the file as CSV in UTF-8 and upload it again.")
            return render_template("admin/import.html", **context), 422
    if not text.strip():
        context["file_error"] = _("Choose a CSV file.")
        return render_template("admin/import.html", **context), 422
    rows, errors = parse_catalogue_csv(text)
    errors = sorted(
        [
            *errors,
            *check_against_catalogue(db(), brand.id or 0, rows),
            *check_stores(db(), brand.id or 0, rows),
        ],
        key=lambda e: e.line,
    )
    context.update(rows=rows, errors=errors, text=text)
    if request.form.get("confirm") and not errors:
        try:
            count = import_rows(db(), brand.id or 0, rows, by=current_actor())
        except DomainError as exc:
            context["file_error"] = error_text(exc)
            return render_template("admin/import.html", **context), 422
        flash(ngettext("Imported %(num)d product.", "Imported %(num)d products.", count))
        return redirect(url_for("admin.products"))
    return render_template("admin/import.html", **context), (422 if errors else 200)
