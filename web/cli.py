"""The `vitrine` command: database, brands, demo, catalogue import, and running it all."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

import click
from sqlmodel import Session, select

from sessions import migrate as migrations
from sessions.accounts import do_create_brand, do_create_user
from sessions.db import make_engine
from sessions.errors import DomainError
from sessions.models import Brand, Role
from web.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict:
    os.environ.setdefault("VITRINE_ENV", "development")
    return load_config()


def _session(config: dict) -> Session:
    return Session(make_engine(config["DATABASE_URL"]), expire_on_commit=False)


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)


@click.group()
def main() -> None:
    """Vitrine: live and personal video shopping for brands."""


@main.command()
def migrate() -> None:
    """Create the database or bring it to the latest schema."""
    config = _config()
    _ensure_sqlite_dir(config["DATABASE_URL"])
    try:
        migrations.upgrade(config["DATABASE_URL"])
    except migrations.UnknownSchema as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("Database is up to date.")


@main.command("create-brand")
@click.option("--slug", required=True, help="URL name, e.g. maison-x")
@click.option("--name", required=True)
@click.option("--currency", default="EUR", show_default=True)
@click.option("--admin-email", required=True)
def create_brand(slug: str, name: str, currency: str, admin_email: str) -> None:
    """Create a brand and invite its first admin, who chooses their own password."""
    from sessions.access import Actor, ActorKind
    from sessions.accounts import invitations

    config = _config()
    operator = Actor(kind=ActorKind.PLATFORM_ADMIN, name="vitrine create-brand")
    with _session(config) as db:
        try:
            brand = do_create_brand(db, slug=slug, name=name, currency=currency)
            assert brand.id is not None
            invitation = invitations.do_invite(
                db,
                operator,
                brand_id=brand.id,
                email=admin_email,
                name=name + " admin",
                role=Role.BRAND_ADMIN,
                secret=config["SECRET_KEY"],
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        url = config["PUBLIC_URL"] + invitations.path_of(config["SECRET_KEY"], invitation)
    click.echo(
        f"Brand '{name}' created. {invitation.email} is invited to be its admin: the web "
        f"nodes e-mail the link, which you may also hand over yourself (it works once, for "
        f"{invitations.INVITATION_DAYS} days):\n{url}"
    )


@main.command("create-platform-admin")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_platform_admin(email: str, password: str) -> None:
    """Create an operator account that can see every brand."""
    with _session(_config()) as db:
        try:
            do_create_user(
                db,
                email=email,
                name="Platform admin",
                password=password,
                role=Role.PLATFORM_ADMIN,
                brand_id=None,
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Platform admin {email} created.")


@main.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the demo brand exists.")
def seed_demo_command(if_empty: bool) -> None:
    """Create the demo brand Maison Aurèle with stores, associates, products and shows."""
    from sessions.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, brand_exists, seed_demo

    config = _config()
    with _session(config) as db:
        if brand_exists(db):
            if if_empty:
                click.echo("Demo brand already there.")
                return
            raise click.ClickException("The demo brand already exists.")
        seed_demo(db, Path(config["UPLOAD_DIR"]))
    click.echo(f"Demo brand created. Admin: {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}")


@main.command("import-csv")
@click.argument("brand_slug")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def import_csv(brand_slug: str, csv_file: TextIO) -> None:
    """Import a catalogue CSV into a brand: all rows or none (see docs/catalogue-csv.md)."""
    from sessions.csv_import import do_import_catalogue, parse_catalogue_csv

    with _session(_config()) as db:
        brand = db.exec(select(Brand).where(Brand.slug == brand_slug)).first()
        if brand is None:
            raise click.ClickException(f"No brand '{brand_slug}'.")
        rows, errors = parse_catalogue_csv(csv_file.read())
        if errors:
            for error in errors:
                click.echo(f"  {error}", err=True)
            raise click.ClickException(f"{len(errors)} problem(s); nothing was imported.")
        try:
            assert brand.id is not None
            count = do_import_catalogue(db, brand.id, rows)
        except DomainError as exc:
            raise click.ClickException(exc.message + " Nothing was imported.") from None
    click.echo(f"Imported {count} product(s) into {brand.name}.")


@main.command("rotate-webhook-secret")
@click.argument("brand_slug")
def rotate_webhook_secret(brand_slug: str) -> None:
    """Generate a new checkout webhook signing secret and print it (shown only here)."""
    from sessions.brands import do_rotate_webhook_secret

    with _session(_config()) as db:
        brand = db.exec(select(Brand).where(Brand.slug == brand_slug)).first()
        if brand is None:
            raise click.ClickException(f"No brand '{brand_slug}'.")
        secret = do_rotate_webhook_secret(db, brand)
    click.echo(secret)
    click.echo("Set it in your shop now: the old secret no longer signs checkouts.", err=True)


@main.command("colour-card")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=ROOT / "web" / "static" / "colour",
    show_default=True,
    help="Folder the PNG and PDF are written to (the console links to web/static/colour).",
)
def colour_card(out: Path) -> None:
    """Print the colour reference card (PNG + PDF) that staff hold beside a piece."""
    from sessions.colour import card

    out.mkdir(parents=True, exist_ok=True)
    for suffix, data in (("png", card.png()), ("pdf", card.pdf())):
        path = out / f"vitrine-colour-card.{suffix}"
        path.write_bytes(data)
        click.echo(f"Wrote {path} ({len(data) // 1024} KiB)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--relay-port", default=8001, show_default=True)
@click.option("--no-camera", is_flag=True, help="Do not publish the synthetic camera.")
def run(host: str, port: int, relay_port: int, no_camera: bool) -> None:
    """Start the web node, the media relay and the demo camera; Ctrl-C stops them all."""
    from web.runner import Supervisor

    config = _config()
    supervisor = Supervisor(ROOT, config, host=host, port=port, relay_port=relay_port)
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        supervisor.start(camera=not no_camera)
        supervisor.wait()
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()


def _stop_like_ctrl_c(_signum: int, _frame: object) -> None:
    """`kill` (SIGTERM) stops everything the way Ctrl-C does."""
    raise KeyboardInterrupt


@main.command()
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes.")
@click.option("--once", is_flag=True)
def reminders(interval: float, once: bool) -> None:
    """Send due consultation reminders and show reminders (the web node does this too)."""
    from sessions.mail import mailer_from_config
    from sessions.service.reminders import run_due_reminders
    from sessions.shows.reminders import ShowLinks, run_due_show_mails

    config = _config()
    engine = make_engine(config["DATABASE_URL"])
    mailer = mailer_from_config(config)
    show_links = ShowLinks(public_url=config["PUBLIC_URL"], secret=config["SECRET_KEY"])
    while True:
        sent = run_due_reminders(engine, mailer)
        sent += run_due_show_mails(engine, mailer, show_links)
        if sent:
            click.echo(f"sent {sent} reminder(s)")
        if once:
            return
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
