"""The `vitrine` command on a fresh database: migrate, demo brand, brands, CSV import."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, func, select

from sessions.clock import utcnow
from sessions.db import make_engine
from sessions.models import (
    AssociateProfile,
    Brand,
    Product,
    Show,
    ShowStatus,
    Store,
    User,
    Variant,
    WeeklyHours,
)
from web.cli import main


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "VITRINE_ENV": "development",
        "VITRINE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def invoke(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_migrate_and_seed_demo(cli_env: dict[str, str]) -> None:
    invoke("migrate")
    assert "Demo brand created" in invoke("seed-demo", "--if-empty")
    assert "already there" in invoke("seed-demo", "--if-empty")

    engine = make_engine(cli_env["DATABASE_URL"])
    with Session(engine) as db:
        brand = db.exec(select(Brand).where(Brand.slug == "maison-aurele")).one()
        stores = db.exec(select(Store).where(Store.brand_id == brand.id)).all()
        assert len({s.timezone for s in stores}) == 2
        associates = db.exec(select(AssociateProfile)).all()
        assert len(associates) == 3
        for profile in associates:
            hours = db.exec(select(WeeklyHours).where(WeeklyHours.associate_id == profile.id))
            assert hours.first() is not None
        products = db.exec(select(Product).where(Product.brand_id == brand.id)).all()
        assert len(products) >= 20
        for product in products:
            assert product.image_path
            assert (Path(cli_env["UPLOAD_DIR"]) / product.image_path).stat().st_size > 1000
        sizes = db.exec(select(func.count(func.distinct(Variant.size)))).one()
        colours = db.exec(select(func.count(func.distinct(Variant.colour)))).one()
        assert sizes > 5 and colours > 5
        assert db.exec(select(Variant).where(Variant.stock == 0)).first() is not None
        shows = db.exec(select(Show).order_by(col(Show.starts_at))).all()
        assert [s.status for s in shows] == [ShowStatus.LIVE, ShowStatus.SCHEDULED]
        assert shows[1].starts_at > utcnow() + timedelta(hours=1)
        assert db.exec(select(User).where(User.email == "admin@maison-aurele.example")).one()
    engine.dispose()


def test_migrate_on_a_database_of_a_schema_revision_that_is_gone_says_what_to_do(
    cli_env: dict[str, str],
) -> None:
    invoke("migrate")
    engine = make_engine(cli_env["DATABASE_URL"])
    with engine.begin() as connection:  # as a development database of an earlier schema
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'e357c181049f'")
    engine.dispose()
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 1
    assert "schema revision this version does not know" in result.output
    assert "var/vitrine.db" in result.output and "Traceback" not in result.output


def test_create_brand_and_refuse_duplicate(cli_env: dict[str, str]) -> None:
    invoke("migrate")
    out = invoke(
        "create-brand",
        "--slug",
        "maison-x",
        "--name",
        "Maison X",
        "--admin-email",
        "a@maison-x.com",
    )
    assert "Maison X" in out and "invited" in out  # no password typed for someone else
    link = out.strip().splitlines()[-1]
    assert "/invitation/" in link
    again = CliRunner().invoke(
        main,
        ["create-brand", "--slug", "maison-x", "--name", "X", "--admin-email", "b@maison-x.com"],
    )
    assert again.exit_code != 0 and "already exists" in again.output


def test_import_csv_all_or_nothing(cli_env: dict[str, str], tmp_path: Path) -> None:
    invoke("migrate")
    invoke(
        "create-brand",
        "--slug",
        "maison-y",
        "--name",
        "Maison Y",
        "--admin-email",
        "a@maison-y.com",
    )
    good = tmp_path / "good.csv"
    good.write_text(
        "product,sku,price,size,colour,stock\n"
        "Riviera Silk Dress,RSD-36,2450.00,36,Sky Blue,3\n"
        "Riviera Silk Dress,RSD-38,2450.00,38,Sky Blue,5\n"
        "Carré Scarf,CS-1,490.00,OS,Azur,12\n"
    )
    assert "Imported 2 product(s)" in invoke("import-csv", "maison-y", str(good))

    bad = tmp_path / "bad.csv"
    bad.write_text("product,sku,price\nCoat,C-1,990.00\nBoots,B-1,not-a-price\n")
    result = CliRunner().invoke(main, ["import-csv", "maison-y", str(bad)])
    assert result.exit_code != 0 and "nothing was imported" in result.output
    engine = make_engine(cli_env["DATABASE_URL"])
    with Session(engine) as db:
        names = sorted(db.exec(select(Product.name)).all())
        stock = db.exec(select(func.sum(Variant.stock))).one()
    engine.dispose()
    assert names == ["Carré Scarf", "Riviera Silk Dress"]  # the bad file added nothing
    assert stock == 20
