"""The catalogue CSV: every problem reported with its line; all rows or none."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from sessions.csv_import import do_import_catalogue, parse_catalogue_csv
from sessions.errors import InvalidInput
from sessions.models import Product, Variant
from tests.factories import Factory


def test_rows_group_into_products_with_variants(session: Session, factory: Factory) -> None:
    brand = factory.brand(currency="GBP")
    rows, errors = parse_catalogue_csv(
        "\ufeffProduct,SKU,Price,Size,Colour,colour_hex,Stock,variant_price\n"
        "Coat,C-S,1200.50,S,Camel,#c19a6b,2,\n"
        "Coat,C-M,1200.50,M,Camel,#c19a6b,0,1300\n"
        "\n"
        "Ring,R-1,300,,,,5,\n"
    )
    assert errors == []
    assert do_import_catalogue(session, brand.id, rows) == 2  # type: ignore[arg-type]
    coat = session.exec(select(Product).where(Product.name == "Coat")).one()
    assert (coat.price_minor, coat.currency) == (120050, "GBP")
    variants = session.exec(select(Variant).where(Variant.product_id == coat.id)).all()
    assert [(v.sku, v.stock, v.price_minor) for v in variants] == [
        ("C-S", 2, None),
        ("C-M", 0, 130000),
    ]


def test_every_problem_is_reported_with_its_line() -> None:
    rows, errors = parse_catalogue_csv(
        "product,sku,price,stock,colour_hex\n,A,1,1,\nB,B-1,1.001,x,red\nC,C-1,5,1,\nD,C-1,5,1,\n"
    )
    found = {(e.line, e.column) for e in errors}
    assert found == {(2, "product"), (3, "price"), (3, "stock"), (3, "colour_hex"), (5, "sku")}
    assert [r.sku for r in rows] == ["C-1"]


def test_missing_columns_and_empty_file() -> None:
    assert [str(e) for e in parse_catalogue_csv("name,price\nx,1\n")[1]] == [
        "line 1, header: missing column(s): product, sku"
    ]
    assert parse_catalogue_csv("")[1][0].column == "header"


def test_existing_sku_means_nothing_is_imported(session: Session, factory: Factory) -> None:
    brand = factory.brand()
    taken = factory.variants(factory.product(brand))[0].sku
    rows, errors = parse_catalogue_csv(f"product,sku,price\nNew,N-1,10\nOther,{taken},10\n")
    assert errors == []
    before = len(session.exec(select(Product)).all())
    with pytest.raises(InvalidInput, match="Nothing was imported"):
        do_import_catalogue(session, brand.id, rows)  # type: ignore[arg-type]
    assert len(session.exec(select(Product)).all()) == before
