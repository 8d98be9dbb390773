"""``crm contacts import FILE`` and ``crm contacts export FILE``: the CSV import and export of the
import page, for files too big to upload and for cron. The format is described in
``crm_contacts.importing``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from core import hookimpl
from core.db import db_session
from crm_contacts.importing import KEYS, export_csv, run_import

MESSAGES_SHOWN = 100


def _echo_messages(title: str, messages: list, err: bool = False) -> None:
    click.echo(f"{title}:", err=err)
    for message in messages[:MESSAGES_SHOWN]:
        click.echo(f"  {message}", err=err)
    if len(messages) > MESSAGES_SHOWN:
        click.echo(f"  … and {len(messages) - MESSAGES_SHOWN} more", err=err)


class _Bar:
    """A progress bar on stderr for ``run_import``'s reports: its length is known once the file
    was read through (the first report), and its label follows what is being done."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def __call__(self, done: int, total: int | None, message: str) -> None:
        if total is None:
            return  # the first pass: the bar starts when the number of rows is known
        if self.bar is None:
            self.bar = click.progressbar(length=total, show_pos=True, file=sys.stderr)
            self.bar.__enter__()
        self.bar.label = message
        self.bar.update(done - self.bar.pos)


def contacts_cli() -> click.Group:
    """A new group each time: the core wraps the commands it is given (module installed?)."""

    @click.group("contacts")
    def contacts() -> None:
        """Clients and their contact persons: CSV import and export."""

    @contacts.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--key",
        type=click.Choice(KEYS),
        default="vat_number",
        show_default=True,
        help="How rows are matched with existing clients (vat_number: rows without one by name).",
    )
    @click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
    @with_appcontext
    def import_command(file: Path, key: str, dry_run: bool) -> None:
        """Import clients and their contact persons from the CSV FILE.

        The file is read as a stream, a chunk of clients at a time: each chunk is checked, then
        written. If any row has an error, each is reported with its row number and nothing is
        written (exit code 1): one transaction. New clients are created, existing ones (same VAT
        number, or name) updated.
        """
        with file.open("rb") as stream, _Bar() as bar:
            plan = run_import(db_session, stream, key, write=not dry_run, report=bar)
        click.echo(
            f"{plan.rows} rows: {plan.created} new clients, {plan.updated} to update, "
            f"{plan.unchanged} unchanged, {len(plan.errors)} errors, "
            f"{len(plan.warnings)} possible duplicates"
        )
        if plan.warnings:
            _echo_messages("Possible duplicates (imported anyway)", plan.warnings)
        if not plan.valid:
            _echo_messages("Errors", plan.errors, err=True)
            db_session.rollback()
            raise click.ClickException("Nothing was imported: correct the rows above.")
        if dry_run:
            db_session.rollback()
            click.echo("Dry run: nothing was written.")
            return
        db_session.commit()
        click.echo(
            f"Imported: {plan.created} created, {plan.updated} updated, "
            f"{plan.unchanged} unchanged, {plan.persons_added} contact persons added."
        )

    @contacts.command("export")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
    @with_appcontext
    def export_command(file: Path) -> None:
        """Export every client with its contact persons to the CSV FILE (importable back)."""
        with file.open("w", encoding="utf-8", newline="") as out:
            for chunk in export_csv(db_session):
                out.write(chunk)
        click.echo(f"Exported to {file}.")

    return contacts


@hookimpl
def crm_commands() -> list[click.Command]:
    return [contacts_cli()]
