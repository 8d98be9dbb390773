"""``crm advertising check`` (stock against the sum of movements, on a live database) and
``crm advertising import FILE`` (materials and opening stock from CSV)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core import hookimpl
from core.db import db_session
from core.timezone import local_today
from crm_advertising.importing import import_materials
from crm_advertising.models import Location, Material
from crm_advertising.permissions import MANAGE_STOCK
from crm_advertising.service import Actor
from crm_advertising.stock_checks import differences

SYSTEM = Actor(SimpleNamespace(id=None), frozenset({MANAGE_STOCK}))


def advertising_cli() -> click.Group:
    """A new group each time: the core wraps the commands it is given (module installed?)."""

    @click.group("advertising")
    def advertising() -> None:
        """Advertising materials: check the stock, import materials."""

    @advertising.command("check")
    @with_appcontext
    def check() -> None:
        """Compare every location's stock with the sum of its movements; exit 1 on a difference."""
        found = differences(db_session)
        if not found:
            click.echo("Stock and movements agree.")
            return
        names = dict(db_session.execute(select(Material.id, Material.name)).all())
        places = dict(db_session.execute(select(Location.id, Location.name)).all())
        for material_id, location_id, stock, moved in found:
            click.echo(
                f"{names.get(material_id, material_id)} at "
                f"{places.get(location_id, location_id)}: stock {stock}, "
                f"movements add up to {moved}."
            )
        raise SystemExit(1)

    @advertising.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @with_appcontext
    def import_(path: Path) -> None:
        """Materials and opening stock from a CSV file; all rows or none."""
        content = path.read_bytes()
        with click.progressbar(length=max(content.count(b"\n"), 1), label="Checking") as bar:
            result = import_materials(db_session, content, SYSTEM, local_today(), bar.update)
        if result.errors:
            db_session.rollback()
            for error in result.errors[:50]:
                click.echo(str(error), err=True)
            raise SystemExit(f"Nothing imported: {len(result.errors)} errors.")
        db_session.commit()
        click.echo(
            f"{result.created} created, {result.updated} updated, "
            f"{result.received} opening stocks received."
        )

    return advertising


@hookimpl
def crm_commands() -> list[click.Command]:
    return [advertising_cli()]
