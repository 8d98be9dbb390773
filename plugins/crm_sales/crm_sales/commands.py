"""``crm sales import FILE``: the CSV import of sales documents from the ERP (format in
``crm_sales.importing``), for cron and for files too big to upload."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from core import hookimpl
from core.db import db_session
from crm_contacts.importing import count_rows
from crm_sales.importing import apply_import, plan_import

MESSAGES_SHOWN = 100


def sales_cli() -> click.Group:
    """A new group each time: the core wraps the commands it is given (module installed?)."""

    @click.group("sales")
    def sales() -> None:
        """Products and sales documents: import from the ERP."""

    @sales.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
    @with_appcontext
    def import_command(file: Path, dry_run: bool) -> None:
        """Import invoices, credit notes and payments from the CSV FILE.

        Every row is checked first; if any row has an error, each is reported with its row number
        and nothing is written (exit code 1). A document whose number exists replaces the stored
        one; one that did not change is left alone, so importing a file again changes nothing.
        """
        content = file.read_bytes()
        with click.progressbar(
            length=count_rows(content), label="Checking", show_pos=True, file=sys.stderr
        ) as bar:
            plan = plan_import(db_session, content, progress=bar.update)
        click.echo(f"{plan.rows} rows, {len(plan.documents)} documents, {len(plan.errors)} errors")
        if not plan.valid:
            click.echo("Errors:", err=True)
            for error in plan.errors[:MESSAGES_SHOWN]:
                click.echo(f"  {error}", err=True)
            if len(plan.errors) > MESSAGES_SHOWN:
                click.echo(f"  … and {len(plan.errors) - MESSAGES_SHOWN} more", err=True)
            db_session.rollback()
            raise click.ClickException("Nothing was imported: correct the rows above.")
        if dry_run:
            db_session.rollback()
            click.echo("Dry run: nothing was written.")
            return
        with click.progressbar(
            length=len(plan.documents), label="Writing", show_pos=True, file=sys.stderr
        ) as bar:
            result = apply_import(db_session, plan.documents, progress=bar.update)
        db_session.commit()
        click.echo(f"Imported: {result}.")

    return sales


@hookimpl
def crm_commands() -> list[click.Command]:
    return [sales_cli()]
